//! `$VAR` in env values: E2B sets values as written, so `validate()` refuses a reference unless the
//! value is literal; Novita expands it. And a received request keeps its provider's meaning.
//! MCP server names: those the provider's SDK lists, each refused at the call that added it.

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
    let e2b = request(r#"{"fromImage":"debian:12","steps":[{"type":"ENV","args":["PATH","/x:$PATH"]}]}"#);
    let t = Template::from_build_request(&e2b, Path::new(".")).unwrap();
    assert_eq!(t.provider(), Provider::E2b);
    assert!(matches!(&t.steps()[0].kind, StepKind::Env { literal: true, .. }));
    assert!(t.validate().is_ok());

    let sent = Template::new().from_image("debian:12").set_envs([("PATH", "/x:$PATH")]);
    let novita = sent.build_request(Provider::Novita, false).unwrap();
    let t = Template::from_build_request(&novita, Path::new(".")).unwrap();
    assert_eq!(t.provider(), Provider::Novita);
    assert!(matches!(&t.steps()[0].kind, StepKind::Env { literal: false, .. }));
    assert!(t.validate().is_ok());

    // Only novita-sandbox sends a pre-boot script: such a request is Novita's, so the script that
    // E2B would refuse passes.
    let sent = Template::new().from_image("debian:12").set_patch_cmd("echo patched");
    let novita = sent.build_request(Provider::Novita, false).unwrap();
    let t = Template::from_build_request(&novita, Path::new(".")).unwrap();
    assert_eq!(t.provider(), Provider::Novita);
    assert!(t.validate().is_ok(), "{:?}", t.validate());
}

/// The `Rule::NotOnProvider` errors of a template validated for `provider`: (feature, help).
fn not_on(t: &Template, provider: Provider) -> Vec<(String, String)> {
    match t.validate_for(provider) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .iter()
            .filter(|e| matches!(e.rule, Rule::NotOnProvider { .. }))
            .map(|e| (e.to_string(), e.rule.help().unwrap()))
            .collect(),
    }
}

/// e2b has no Huawei Cloud or Oracle Cloud registry (SPEC §A, §G): E2B gets an error naming the
/// provider and the way out, instead of a `type: "huawei"` it does not know.
#[test]
fn e2b_refuses_novita_only_registries_and_names_the_alternatives() {
    let huawei = Template::new().from_huawei_registry(
        "swr.cn-north-4.myhuaweicloud.com/org/img:1",
        sandbox_template_runtime::Secret::new("AK"),
        sandbox_template_runtime::Secret::new("SK"),
        "cn-north-4",
    );
    let line = line!() - 6;
    let errors = huawei.validate_for(Provider::E2b).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].location.map(|l| l.line), Some(line), "the `from_huawei_registry` call");
    let message = errors.0[0].to_string();
    assert!(message.contains("E2B has no Huawei Cloud registry (`from huawei`"), "{message}");
    let help = errors.0[0].rule.help().unwrap();
    assert!(help.contains("--provider novita") && help.contains("from_image_with_credentials"), "{help}");
    assert!(huawei.to_json().is_err() && huawei.to_dockerfile().is_err(), "E2B is the default provider");
    let json = huawei.to_json_with(JsonOptions::for_provider(Provider::Novita)).unwrap();
    assert!(json.contains("\"type\": \"huawei\""), "{json}");

    let oci = Template::new().from_oci_registry(
        "iad.ocir.io/ns/repo:tag",
        sandbox_template_runtime::OciCredentials {
            tenancy_ocid: "ocid1.tenancy".into(),
            user_ocid: "ocid1.user".into(),
            fingerprint: "aa:bb".into(),
            private_key: sandbox_template_runtime::Secret::new("key"),
            region: "us-ashburn-1".into(),
        },
    );
    let refused = not_on(&oci, Provider::E2b);
    assert_eq!(refused.len(), 1);
    assert!(refused[0].0.contains("E2B has no Oracle Cloud registry"), "{refused:?}");
    assert!(not_on(&oci, Provider::Novita).is_empty());
    // Registries both SDKs have pass on both.
    let aws = Template::new().from_aws_registry(
        "1.dkr.ecr.us-west-2.amazonaws.com/a:b",
        sandbox_template_runtime::Secret::new("AK"),
        sandbox_template_runtime::Secret::new("SK"),
        "us-west-2",
    );
    assert!(aws.validate_for(Provider::E2b).is_ok() && aws.validate_for(Provider::Novita).is_ok());
}

/// novita-sandbox has no `gzip` copy option (it always compresses and never sends the key):
/// `gzip(false)` is refused for Novita, `gzip(true)` is left out of Novita's JSON; E2B sends both.
#[test]
fn novita_refuses_gzip_false_and_leaves_the_key_out() {
    use sandbox_template_runtime::CopyOptions;
    let off = Template::new().from_image("debian:12").copy_with("a", "/a", CopyOptions::new().gzip(false));
    let line = line!() - 1;
    let errors = off.validate_for(Provider::Novita).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].location.map(|l| l.line), Some(line), "the `copy_with` call");
    let message = errors.0[0].to_string();
    assert!(message.contains("Novita has no `gzip = false` copy option"), "{message}");
    assert!(errors.0[0].rule.help().unwrap().contains("remove `gzip = false`"));
    assert!(off.build_request(Provider::Novita, false).is_err());
    assert_eq!(off.build_request(Provider::E2b, false).unwrap().steps[0].gzip, Some(false));

    let on = Template::new().from_image("debian:12").copy_with("a", "/a", CopyOptions::new().gzip(true));
    assert_eq!(on.build_request(Provider::Novita, false).unwrap().steps[0].gzip, None);
    assert_eq!(on.build_request(Provider::E2b, false).unwrap().steps[0].gzip, Some(true));
    let mut options = JsonOptions::for_provider(Provider::Novita);
    options.compute_hashes = false;
    assert!(!on.to_json_with(options).unwrap().contains("gzip"));
}

/// e2b has no pre-boot script (`setPatchCmd` is novita-sandbox's): E2B refuses it rather than
/// dropping it without a word.
#[test]
fn e2b_refuses_a_pre_boot_script() {
    let t = Template::new().from_image("ubuntu:22.04").set_patch_cmd("echo patched > /etc/patched");
    let refused = not_on(&t, Provider::E2b);
    assert_eq!(refused.len(), 1);
    assert!(refused[0].0.contains("E2B has no pre-boot script (`set_patch_cmd`"), "{refused:?}");
    assert!(refused[0].1.contains("run_cmd"), "{refused:?}");
    let novita = t.build_request(Provider::Novita, false).unwrap();
    assert_eq!(novita.pre_boot_script.as_deref(), Some("echo patched > /etc/patched"));
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

/// novita-sandbox has no `fromAlpineImage`, `fromFedoraImage` or `fromArchImage` and reports such
/// images as unusable: Novita refuses them (an `-alpine` tag too), naming the bases that work;
/// E2B builds them, and an image of unknown distro is not checked.
#[test]
fn novita_refuses_bases_that_are_not_debian_family() {
    for t in [
        Template::new().from_alpine_image(None::<&str>),
        Template::new().from_fedora_image(None::<&str>),
        Template::new().from_arch_image(None::<&str>),
        Template::new().from_image("python:3.12-alpine"),
    ] {
        let refused = not_on(&t, Provider::Novita);
        assert_eq!(refused.len(), 1, "{:?}", t.base());
        assert!(refused[0].0.contains("Novita has no Alpine, Fedora or Arch base"), "{refused:?}");
        assert!(refused[0].1.contains("`from debian`"), "{refused:?}");
        assert!(t.validate_for(Provider::E2b).is_ok());
        assert!(t.build_request(Provider::Novita, false).is_err());
    }
    for image in ["python:3.12", "ubuntu:24.04", "ghcr.io/acme/app:1"] {
        assert!(not_on(&Template::new().from_image(image), Provider::Novita).is_empty(), "{image}");
    }
}

/// A `remove` that `rm` refuses (`/`, a path ending in `.` or `..`) fails the build, so
/// `validate()` refuses it first, naming the path; paths inside a folder pass.
#[test]
fn remove_refuses_what_rm_refuses() {
    let rules = |t: Template| t.validate().err().map(|e| e.0.into_iter().map(|e| e.rule).collect::<Vec<_>>());
    assert_eq!(
        rules(Template::new().from_base_image().remove(["/tmp/build", "/", "cache/.."])),
        Some(vec![Rule::Unremovable("/".into()), Rule::Unremovable("cache/..".into())])
    );
    let refused = Template::new().from_base_image().remove("/").validate().unwrap_err().to_string();
    assert!(refused.contains("`rm` cannot remove `/`"), "{refused}");
    assert_eq!(rules(Template::new().from_base_image().remove(["/tmp/build", "./cache", "/..x"])), None);
}

/// `pip|npm|bun install` on a base known to lack the tool fails with "not found", so `validate()`
/// refuses it, unless an earlier command could have installed the tool; unknown bases pass.
#[test]
fn language_installs_need_the_tool_in_the_base() {
    let rules = |t: Template| t.validate().err().map(|e| e.0.into_iter().map(|e| e.rule).collect::<Vec<_>>());
    assert_eq!(
        rules(Template::new().from_ubuntu_image("24.04").pip_install(["requests"])),
        Some(vec![Rule::ToolNotInBase { tool: "pip", image: "ubuntu:24.04".into() }])
    );
    assert_eq!(
        rules(Template::new().from_python_image("3.12").npm_install(["left-pad"])),
        Some(vec![Rule::ToolNotInBase { tool: "npm", image: "python:3.12".into() }])
    );
    let help = Rule::ToolNotInBase { tool: "npm", image: "alpine:3.20".into() }.help().unwrap();
    assert!(help.contains("`from node;`") && help.contains("apk add --no-cache nodejs npm"), "{help}");
    // An earlier command may have installed it; the images that have it, and unknown ones, pass.
    assert_eq!(
        rules(Template::new().from_debian_image(None::<&str>).apt_install(["nodejs", "npm"]).npm_install(["x"])),
        None
    );
    assert_eq!(rules(Template::new().from_node_image("22-alpine").npm_install(["x"])), None);
    assert_eq!(rules(Template::new().from_base_image().bun_install(["x"])), None);
    assert_eq!(rules(Template::new().from_image("ghcr.io/acme/app:1").pip_install(["x"])), None);
}

/// Each name `add_mcp_server` was given that the provider's SDK does not list, with the call that
/// added it and the listed name it was likely meant to be.
#[test]
fn mcp_server_names_are_those_the_providers_sdk_lists() {
    let t = Template::new().from_template("mcp-gateway").add_mcp_server(["exa", "brvae", "Firecrawl"]);
    let line = line!() - 1;
    let errors = t.validate().unwrap_err();
    let found: Vec<_> =
        errors.iter().map(|e| (e.rule.to_string(), e.rule.help().unwrap(), e.location.map(|l| l.line))).collect();
    assert_eq!(
        found,
        [
            ("unknown MCP server `brvae` for E2B".to_owned(), "did you mean `brave`?".to_owned(), Some(line)),
            ("unknown MCP server `Firecrawl` for E2B".to_owned(), "did you mean `firecrawl`?".to_owned(), Some(line)),
        ]
    );

    // Each provider's own list: `n8n` is only e2b's, `postgres` only novita-sandbox's.
    let t = Template::new().from_template("mcp-gateway").add_mcp_server(["n8n", "postgres"]);
    let rules = |provider| match t.validate_for(provider) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.rule.clone()).collect(),
    };
    assert_eq!(rules(Provider::E2b), [Rule::UnknownMcpServer { provider: Provider::E2b, name: "postgres".into() }]);
    let novita = rules(Provider::Novita);
    assert_eq!(novita, [Rule::UnknownMcpServer { provider: Provider::Novita, name: "n8n".into() }]);
    let help = novita[0].help().unwrap();
    assert!(help.starts_with("only E2B's SDK lists `n8n`: build it for E2B (`provider e2b;`"), "{help}");

    // A flag is a flag, not also an unknown server; a name far from every listed one gets the list's whereabouts.
    let t = Template::new().from_template("mcp-gateway").add_mcp_server(["--all", "zzzzzzzzzz"]);
    let errors = t.validate().unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
    assert!(matches!(&errors.0[0].rule, Rule::PackageLooksLikeFlag(name) if name == "--all"));
    let help = errors.0[1].rule.help().unwrap();
    assert!(help.contains("`Provider::E2b.mcp_servers()` has them all"), "{help}");
}
