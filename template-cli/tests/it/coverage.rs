//! The CLI column of `docs/coverage.md` (every official SDK method and option, and where it is in
//! Rust, the DSL and the CLI): each command and flag it names is one `sandbox-template` has. The
//! facade's `tests/it/coverage.rs` checks the other columns.

use std::path::Path;

use crate::support::{run, text};

/// The CLI cells: `sandbox-template SUB [SUB2] [--flag [VALUE]]`, with the line they are on.
fn cli_cells() -> Vec<(usize, String)> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/coverage.md");
    let doc = std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    let mut cells = Vec::new();
    for (i, line) in doc.lines().enumerate() {
        let columns: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        if !line.starts_with('|') || columns.len() != 6 {
            continue;
        }
        for span in columns[4].split('`').skip(1).step_by(2) {
            cells.push((i + 1, span.to_owned()));
        }
    }
    assert!(cells.len() > 20, "docs/coverage.md: only {} CLI cells found", cells.len());
    cells
}

#[test]
fn every_command_and_flag_in_the_coverage_table_exists() {
    for (line, cell) in cli_cells() {
        let words: Vec<&str> = cell.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"sandbox-template"), "docs/coverage.md:{line}: `{cell}` is not a command");
        // The subcommand path: the words before the first flag.
        let commands: Vec<&str> = words[1..].iter().copied().take_while(|w| !w.starts_with('-')).collect();
        let flags: Vec<&str> = words.iter().copied().filter(|w| w.starts_with("--")).collect();
        let mut args = commands.clone();
        args.push("--help");
        let out = run(&args);
        assert!(
            out.status.success(),
            "docs/coverage.md:{line}: `sandbox-template {}` fails: {}",
            args.join(" "),
            text(&out.stderr)
        );
        let help = text(&out.stdout);
        for flag in flags {
            assert!(
                help.split(|c: char| c.is_whitespace() || c == ',').any(|w| w == flag),
                "docs/coverage.md:{line}: `sandbox-template {}` has no `{flag}`",
                commands.join(" ")
            );
        }
    }
}
