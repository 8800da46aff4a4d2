//! `write` on arbitrary build requests: a `.tmpl` that reads back into the same request, or an
//! error, never a panic and never a different request.

use std::path::Path;

use proptest::prelude::*;
use sandbox_template_dsl::tmpl;
use sandbox_template_dsl::write::{WriteOptions, request_to_tmpl};
use sandbox_template_runtime::wire::{BuildRequest, WireStep};
use sandbox_template_runtime::{Provider, Template};

/// Pieces of the SDKs' RUN forms and of shell syntax, so generated commands come close to the
/// forms the writer recognizes (and to the ones it must not).
const PIECES: &[&str] = &[
    "pip install ",
    "--user ",
    "npm install",
    "bun install",
    " -g",
    " --save-dev",
    " --dev",
    "apt-get update && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y ",
    "--no-install-recommends ",
    "git clone ",
    " --branch ",
    " --single-branch",
    " --depth 1",
    "mkdir -p ",
    "-m 0755 ",
    "rm ",
    "-r ",
    "-f ",
    "mv ",
    "ln -s ",
    "mcp-gateway pull ",
    "devcontainer build --workspace-folder ",
    "'with space'",
    "'it'\"'\"'s'",
    " && ",
    "$HOME",
    ";",
    "\"",
    "\\",
    "\n",
    " ",
    "a",
    "/x",
    "pkg==1.0",
    ".",
];

fn command() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![prop::sample::select(PIECES).prop_map(str::to_owned), "\\PC{0,6}"], 0..6)
        .prop_map(|parts| parts.concat())
}

fn step() -> impl Strategy<Value = WireStep> {
    let run = (command(), prop::option::of(prop::sample::select(&["root", "user", ""][..])), any::<bool>()).prop_map(
        |(c, user, force)| {
            let mut args = vec![c];
            args.extend(user.map(str::to_owned));
            wire("RUN", args, force)
        },
    );
    let env = ("[A-Za-z_][A-Za-z0-9_]{0,5}|\\PC{0,4}", "\\PC{0,8}").prop_map(|(k, v)| wire("ENV", vec![k, v], false));
    let workdir = "\\PC{0,8}".prop_map(|p| wire("WORKDIR", vec![p], false));
    prop_oneof![4 => run, 1 => env, 1 => workdir]
}

fn wire(kind: &str, args: Vec<String>, force: bool) -> WireStep {
    WireStep {
        kind: kind.to_owned(),
        args,
        force,
        force_upload: None,
        resolve_symlinks: None,
        gzip: None,
        files_hash: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn a_written_request_reads_back_into_the_same_request(
        steps in prop::collection::vec(step(), 0..5),
        ready in prop::option::of(command()),
        // The templates `mcp server` and `devcontainer` need, so that their forms are written.
        template in prop::option::of(prop::sample::select(&["mcp-gateway", "devcontainer"][..])),
    ) {
        let request = BuildRequest {
            start_cmd: ready.as_ref().map(|_| "serve".to_owned()),
            ready_cmd: ready,
            pre_boot_script: None,
            steps,
            force: false,
            from_image: template.is_none().then(|| "alpine:3".to_owned()),
            from_template: template.map(str::to_owned),
            from_image_registry: None,
        };
        if let Ok(imported) = request_to_tmpl(&request, &WriteOptions::new()) {
            let back = tmpl::load_str(&imported.text, "w.tmpl", None)
                .unwrap_or_else(|e| panic!("written text refused:\n{e}\n{}", imported.text));
            let again = back.build_request(Provider::E2b, false).unwrap();
            // The request as the runtime's model reads it (a `RUN` user `""` is no user).
            let model = Template::from_build_request(&request, Path::new(".")).unwrap();
            prop_assert_eq!(again, model.build_request(Provider::E2b, false).unwrap(), "{}", imported.text);
        }
    }
}

#[test]
fn sdk_forms_are_written_as_statements() {
    // Guards the property above against passing because everything is refused.
    let request = BuildRequest {
        start_cmd: None,
        ready_cmd: None,
        pre_boot_script: None,
        steps: vec![wire("RUN", vec!["mkdir -p 'with space'".to_owned()], false)],
        force: false,
        from_image: Some("alpine:3".to_owned()),
        from_template: None,
        from_image_registry: None,
    };
    let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
    assert_eq!(text, "from alpine \"3\";\nmkdir \"with space\";\n");
    // The MCP and dev container forms on their templates, a `run` elsewhere.
    let mcp = wire("RUN", vec!["mcp-gateway pull exa".to_owned(), "root".to_owned()], false);
    let prebuild = wire("RUN", vec!["devcontainer build --workspace-folder /dc".to_owned(), "root".to_owned()], false);
    for (template, step, statement) in [
        (Some("mcp-gateway"), &mcp, "mcp server \"exa\";"),
        (None, &mcp, "run \"mcp-gateway pull exa\" (user = \"root\");"),
        (Some("devcontainer"), &prebuild, "devcontainer prebuild \"/dc\";"),
        (Some("mcp-gateway"), &prebuild, "run \"devcontainer build --workspace-folder /dc\" (user = \"root\");"),
    ] {
        let request = BuildRequest {
            steps: vec![step.clone()],
            from_image: template.is_none().then(|| "alpine:3".to_owned()),
            from_template: template.map(str::to_owned),
            ..request.clone()
        };
        let text = request_to_tmpl(&request, &WriteOptions::new()).unwrap().text;
        assert!(text.ends_with(&format!("\n{statement}\n")), "{text}");
    }
}
