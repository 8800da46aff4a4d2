//! `--help` of the binary and of every subcommand: a summary line of its own (not clap's
//! "Arguments of …" taken from an argument struct), and the longer text under it.

use crate::support::{run, text};

const COMMANDS: [&str; 11] =
    ["check", "json", "dockerfile", "import", "build", "serve", "list", "status", "exists", "tags", "delete"];

#[test]
fn every_command_has_a_summary_and_a_long_help() {
    let top = run(&["--help"]);
    assert!(top.status.success());
    let top = text(&top.stdout);
    assert!(
        top.starts_with("Cloud sandbox templates (E2B, Novita): check, export, build, manage and serve them\n"),
        "{top}"
    );
    for command in COMMANDS {
        let out = run(&[command, "--help"]);
        assert!(out.status.success(), "{command} --help: {}", text(&out.stderr));
        let help = text(&out.stdout);
        let summary = help.lines().next().unwrap_or_default();
        assert!(!help.contains("Arguments of"), "{command} --help:\n{help}");
        assert!(!summary.ends_with('.') && summary.len() > 20, "{command}: {summary:?}");
        // The summary is the one listed by `sandbox-template --help`.
        assert!(
            top.lines().any(|l| l.trim_start().starts_with(command) && l.ends_with(summary)),
            "{command}: {summary:?} not in\n{top}"
        );
    }
}

#[test]
fn build_and_serve_explain_themselves() {
    let build = text(&run(&["build", "--help"]).stdout);
    assert!(build.starts_with("Build a `.tmpl` file on E2B or Novita, or locally with `--local`\n"), "{build}");
    assert!(build.contains("exit code is 0 when the build is ready"), "{build}");
    let serve = text(&run(&["serve", "--help"]).stdout);
    assert!(serve.starts_with("Run the template build API on this machine"), "{serve}");
    assert!(serve.contains("$XDG_DATA_HOME/sandbox-template"), "the default data folder: {serve}");
    // `-h` is the short form: one line per option.
    let short = text(&run(&["serve", "-h"]).stdout);
    assert!(!short.contains("$XDG_DATA_HOME") && short.contains("--data <DIR>"), "{short}");
}
