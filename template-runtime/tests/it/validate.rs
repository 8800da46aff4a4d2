//! `$VAR` in env values: E2B sets values as written, so `validate()` refuses a reference unless the
//! value is literal; Novita expands it. And a received request keeps its provider's meaning.

use std::path::Path;

use sandbox_template_runtime::wire::BuildRequest;
use sandbox_template_runtime::{EnvOptions, JsonOptions, Provider, Rule, StepKind, Template};

fn references(t: &Template, provider: Provider) -> Vec<(String, String)> {
    match t.validate_for(provider) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .iter()
            .filter_map(|e| match &e.rule {
                Rule::EnvReference { key, reference, .. } => Some((key.clone(), reference.clone())),
                _ => None,
            })
            .collect(),
    }
}

#[test]
fn e2b_refuses_every_reference_with_its_builder_call_and_the_fix() {
    let t = Template::new()
        .from_image("python:3.12")
        .set_envs([("PATH", "/opt/venv/bin:$PATH"), ("OK", "5$ $$ $1 $")])
        .set_envs([("DATA", "${HOME}/data")]);
    let line = line!() - 1;
    assert_eq!(
        references(&t, Provider::E2b),
        [("PATH".to_owned(), "$PATH".to_owned()), ("DATA".to_owned(), "${HOME}".to_owned())]
    );
    // `validate()` is E2B's unless the template says otherwise.
    let errors = t.validate().unwrap_err();
    assert_eq!(errors.0.len(), 2);
    let data = &errors.0[1];
    assert_eq!(data.location.map(|l| l.line), Some(line), "the `set_envs` call that added it");
    let path = errors.0[0].to_string();
    assert!(path.contains("`PATH` would hold the text `$PATH`"), "{path}");
    let help = errors.0[0].rule.help().unwrap();
    assert!(help.contains("`/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`"), "{help}");
    assert!(help.contains("exit 127") && help.contains("EnvOptions::new().literal(true)"), "{help}");
    // Exports and builds validate first.
    assert!(t.to_json().is_err());
    assert!(t.to_dockerfile().is_err());
}

#[test]
fn literal_values_and_novita_pass_and_novita_templates_say_so() {
    let literal = Template::new().set_envs_with([("PS1", "$USER> ")], EnvOptions::new().literal(true));
    assert!(references(&literal, Provider::E2b).is_empty());
    assert!(literal.to_json().unwrap().contains("\"$USER> \""), "E2B sends the text as written");

    let venv = Template::new().set_envs([("PATH", "/opt/venv/bin:$PATH")]);
    assert!(references(&venv, Provider::Novita).is_empty());
    assert!(venv.to_json_with(JsonOptions::for_provider(Provider::Novita)).is_ok());
    assert!(venv.to_json_with(JsonOptions::for_provider(Provider::E2b)).is_err());
    let novita = venv.for_provider(Provider::Novita);
    assert!(novita.validate().is_ok() && novita.to_json().unwrap().contains("novita-image-env"));
}

/// A Novita literal value is written into the env script with every `$` escaped, so the script
/// sets the text; an expanded one keeps `$VAR` for the shell.
#[test]
fn novita_literal_values_are_escaped_in_the_env_script() {
    let script = |options: EnvOptions| {
        let t = Template::new().set_envs_with([("PS1", "$USER> ")], options);
        let request = t.build_request(Provider::Novita, false).unwrap();
        let command = request.steps.last().unwrap().args[0].clone();
        let encoded = command.strip_prefix("echo ").unwrap().split(' ').next().unwrap().to_owned();
        let out =
            std::process::Command::new("sh").arg("-c").arg(format!("echo {encoded} | base64 -d")).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(script(EnvOptions::new().literal(true)).contains("v=\"\\$USER> \"\n"));
    assert!(script(EnvOptions::new()).contains("v=\"$USER> \"\n"));
}

fn request(json: &str) -> BuildRequest {
    serde_json::from_str(json).unwrap()
}

/// `serve` builds what each provider's client means: an E2B request's values as written (they pass
/// validation, marked literal), a Novita request's (it ends with the env-files step) expanded.
#[test]
fn a_received_request_keeps_its_providers_env_semantics() {
    let e2b = request(r#"{"fromImage":"alpine:3","steps":[{"type":"ENV","args":["PATH","/x:$PATH"]}]}"#);
    let t = Template::from_build_request(&e2b, Path::new(".")).unwrap();
    assert_eq!(t.provider(), Provider::E2b);
    assert!(matches!(&t.steps()[0].kind, StepKind::Env { literal: true, .. }));
    assert!(t.validate().is_ok());

    let sent = Template::new().from_image("alpine:3").set_envs([("PATH", "/x:$PATH")]);
    let novita = sent.build_request(Provider::Novita, false).unwrap();
    let t = Template::from_build_request(&novita, Path::new(".")).unwrap();
    assert_eq!(t.provider(), Provider::Novita);
    assert!(matches!(&t.steps()[0].kind, StepKind::Env { literal: false, .. }));
    assert!(t.validate().is_ok());
}

/// `apt install` and a `run` of another distro's package manager are refused on a base whose
/// distro is known from its image; an image of unknown distro is not checked.
#[test]
fn package_manager_must_fit_the_base() {
    let rules = |t: Template| t.validate().err().map(|e| e.0.into_iter().map(|e| e.rule).collect::<Vec<_>>());
    assert_eq!(
        rules(Template::new().from_alpine_image(None::<&str>).apt_install(["curl"])),
        Some(vec![Rule::WrongPackageManager {
            command: "apt install".into(),
            needs: "apt-get",
            image: "alpine:3.24".into(),
            has: "apk",
        }])
    );
    let run = Template::new()
        .from_image("docker.io/library/fedora:41")
        .set_user("root")
        .run_cmd("apt-get update && apt-get install -y curl");
    assert!(matches!(
        rules(run).as_deref(),
        Some([Rule::WrongPackageManager { command, has: "dnf", .. }]) if command == "apt-get update"
    ));
    assert_eq!(rules(Template::new().from_image("node:22-alpine").set_user("root").run_cmd("apk add git")), None);
    assert_eq!(rules(Template::new().from_python_image("3.12").apt_install(["curl"])), None);
    assert_eq!(rules(Template::new().from_image("ghcr.io/acme/app:1").apt_install(["curl"])), None);
}
