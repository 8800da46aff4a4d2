//! The DSL forms of the SDK methods that only some providers have, and the provider rules the
//! checks apply (`provider e2b|novita;`, the runtime's `Rule::NotOnProvider`): each form builds
//! the template its builder call builds, and what the provider's SDK lacks is refused at the
//! offending token with the runtime's rule text.

use sandbox_template_dsl::tmpl::{self, TmplError};
use sandbox_template_runtime::{
    JsonOptions, OciCredentials, Provider, RegistryCredentials, Rule, Secret, Template, rules,
};

fn load(text: &str) -> Template {
    tmpl::load_str(text, "t.tmpl", None).unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn refused(text: &str) -> TmplError {
    match tmpl::check_str(text, "t.tmpl", None) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// `error: MESSAGE` at `t.tmpl:LINE:COL`, with `= help: HELP` after it.
fn assert_error(e: &TmplError, message: &str, at: &str, help: &str) {
    let text = &e.rendered;
    let found = text.split("\nerror: ").map(|one| one.trim_start_matches("error: ")).any(|one| {
        one.starts_with(&format!("{message}\n"))
            && one.contains(&format!("--> t.tmpl:{at}\n"))
            && one.contains(&format!("= help: {help}"))
    });
    assert!(found, "no `{message}` at {at} with help `{help}` in\n{text}");
}

fn rule_text(rule: Result<(), Rule>) -> (String, String) {
    let rule = rule.unwrap_err();
    (rule.compile_message(), rule.help().unwrap())
}

fn oci() -> OciCredentials {
    OciCredentials {
        tenancy_ocid: "ocid1.tenancy".into(),
        user_ocid: "ocid1.user".into(),
        fingerprint: "aa:bb".into(),
        private_key: Secret::from_env("OCI_KEY"),
        region: "us-ashburn-1".into(),
    }
}

const OCI: &str = r#"from oci "iad.ocir.io/ns/repo:tag" (tenancy_ocid = "ocid1.tenancy", user_ocid = "ocid1.user", fingerprint = "aa:bb", private_key = env("OCI_KEY"), region = "us-ashburn-1");"#;

#[test]
fn from_oci_is_from_oci_registry() {
    let t = load(&format!("provider novita;\n{OCI}\n"));
    let want = Template::new().for_provider(Provider::Novita).from_oci_registry("iad.ocir.io/ns/repo:tag", oci());
    assert_eq!(t.base(), want.base());
    assert_eq!(t.registry(), Some(&RegistryCredentials::Oci(oci())));
    assert_eq!(t.provider(), Provider::Novita);
}

#[test]
fn from_oci_needs_its_credentials_and_a_secret_key() {
    let e = refused("provider novita;\nfrom oci \"iad.ocir.io/ns/repo:tag\";\n");
    assert_error(&e, "`from oci` needs credentials", "2:6", "write `from oci \"...\" (tenancy_ocid = ");
    let e = refused(
        "provider novita;\nfrom oci \"iad.ocir.io/ns/repo:tag\" (tenancy_ocid = \"t\", user_ocid = \"\", private_key = \"-----BEGIN\", region = \"r\");\n",
    );
    assert_error(&e, "missing `fingerprint`", "2:6", "add `fingerprint = \"...\"` to the options");
    assert_error(&e, "registry credential `user_ocid` is empty", "2:69", "give every credential field a value");
    assert_error(&e, &Rule::SecretLiteral.to_string(), "2:87", "read it when the build runs");
    assert_eq!(e.count, 3, "{e}");
}

#[test]
fn patch_is_set_patch_cmd_on_novita() {
    let t = load("provider novita;\nfrom image \"ubuntu:22.04\";\npatch \"echo patched > /etc/patched\";\n");
    assert_eq!(t.pre_boot_script(), Some("echo patched > /etc/patched"));
    let e = refused("provider novita;\nfrom base;\npatch \"a\";\npatch \"\";\n");
    assert_error(&e, "a second `patch`", "4:1", "a template has one pre-boot script");
    assert_error(&e, "the command is empty", "4:7", "write the command to run");
    let e = refused("patch \"a\";\nfrom base;\n");
    assert_error(&e, "a step before the base", "1:1", "start the template with its base");
}

#[test]
fn mcp_server_is_add_mcp_server_on_the_mcp_gateway_template() {
    let t = load("from template \"mcp-gateway\";\nmcp server \"exa\";\nmcp server \"brave\", \"firecrawl\";\n");
    let want =
        Template::new().from_template("mcp-gateway").add_mcp_server("exa").add_mcp_server(["brave", "firecrawl"]);
    let options = JsonOptions::default();
    assert_eq!(t.to_json_with(options).unwrap(), want.to_json_with(options).unwrap());
    let (message, help) = rule_text(rules::mcp_base(None));
    let e = refused("from base;\nmcp server \"exa\", \"--all\";\n");
    assert_error(&e, &message, "2:1", &help);
    assert_error(&e, "package name `--all` starts with `-`", "2:19", "flags belong in options");
    let e = refused("from template \"my-base\";\nmcp server \"exa\";\n");
    assert_error(&e, &message, "2:1", &help);
    let e = refused("from template \"mcp-gateway\";\nmcp \"exa\";\n");
    assert_error(&e, "expected `server`", "2:5", "write `mcp server \"exa\", \"brave\";`");
}

/// A name the provider's SDK does not list is refused at the name, as `validate()` does, with the
/// listed name it was likely meant to be; a `{expr}` is left to `validate()`.
#[test]
fn mcp_server_names_are_those_the_providers_sdk_lists() {
    let e = refused("from template \"mcp-gateway\";\nmcp server \"exa\", \"brvae\";\n");
    assert_error(&e, "unknown MCP server `brvae` for E2B", "2:19", "did you mean `brave`?");
    assert!(e.rendered.contains("due to 1 previous error"), "only `brvae`:\n{}", e.rendered);
    // Docker's MCP catalog writes `aws-documentation`; the SDKs type `awsDocumentation`.
    let e = refused("from template \"mcp-gateway\";\nmcp server \"aws-documentation\";\n");
    assert_error(&e, "unknown MCP server `aws-documentation` for E2B", "2:12", "did you mean `awsDocumentation`?");
    // The provider's own list: novita-sandbox has no `n8n`.
    let text = "provider novita;\nfrom template \"mcp-gateway\";\nmcp server \"n8n\";\n";
    let e = refused(text);
    assert_error(&e, "unknown MCP server `n8n` for Novita", "3:12", "only E2B's SDK lists `n8n`");
    assert!(tmpl::check_str(&text.replace("novita", "e2b"), "t.tmpl", None).is_ok());
    // The same rule as `validate()`, message and help.
    let (message, help) = rule_text(rules::mcp_server_name(Provider::E2b, "brvae"));
    assert_eq!((message.as_str(), help.as_str()), ("unknown MCP server `brvae` for E2B", "did you mean `brave`?"));
}

#[test]
fn devcontainer_prebuild_and_start_are_the_beta_dev_container_calls() {
    let t = load(
        "from template \"devcontainer\";\ngit clone \"https://example.com/p.git\" => \"/dc\";\n\
         devcontainer prebuild \"/dc\";\ndevcontainer start \"/dc\";\n",
    );
    let want = Template::new()
        .from_template("devcontainer")
        .git_clone_with("https://example.com/p.git", sandbox_template_runtime::GitCloneOptions::new().path("/dc"))
        .beta_dev_container_prebuild("/dc")
        .beta_set_dev_container_start("/dc");
    for provider in [Provider::E2b, Provider::Novita] {
        let options = JsonOptions::for_provider(provider);
        assert_eq!(t.to_json_with(options).unwrap(), want.to_json_with(options).unwrap());
    }
    // `devcontainer start` is the template's start command: one of them.
    let e = refused("from template \"devcontainer\";\ndevcontainer start \"/dc\";\nstart \"x\" ready port 80;\n");
    assert_error(&e, "a second `start`/`ready`", "3:1", "a template has one start command");
    let (message, help) = rule_text(rules::dev_container_base(Some("python")));
    let e = refused("from python;\ndevcontainer prebuild \"/dc\";\ndevcontainer start \"\";\n");
    assert_error(&e, &message, "2:1", &help);
    assert_error(&e, &message, "3:1", &help);
    assert_error(&e, "dev container folder is empty", "3:20", "write a non-empty path");
    let e = refused("from template \"devcontainer\";\ndevcontainer up \"/dc\";\n");
    assert_error(&e, "expected `prebuild` or `start`", "2:14", "write `devcontainer prebuild");
}

/// What E2B's SDK lacks is refused for E2B (the default) at the token that asks for it, with the
/// runtime's rule; the same text with `provider novita;` is accepted.
#[test]
fn e2b_refuses_what_only_novita_sandbox_has() {
    let huawei = r#"from huawei "swr.cn-north-4.myhuaweicloud.com/o/i:1" (access_key_id = env("AK"), secret_access_key = env("SK"), region = "cn-north-4");"#;
    let cases = [
        (format!("{huawei}\n"), "1:6", rules::registry_kind(Provider::E2b, "huawei")),
        (format!("{OCI}\n"), "1:6", rules::registry_kind(Provider::E2b, "oci")),
        ("from base;\npatch \"echo hi\";\n".to_owned(), "2:1", rules::patch_cmd(Provider::E2b)),
    ];
    for (text, at, rule) in cases {
        let (message, help) = rule_text(rule);
        for header in ["", "provider e2b;\n"] {
            let text = format!("{header}{text}");
            let line_shift = header.lines().count();
            let (line, col) = at.split_once(':').unwrap();
            let at = format!("{}:{col}", line.parse::<usize>().unwrap() + line_shift);
            let e = refused(&text);
            assert_error(&e, &message, &at, &help);
            assert_eq!(e.count, 1, "{e}");
        }
        let novita = load(&format!("provider novita;\n{text}"));
        assert!(novita.validate().is_ok());
        assert!(novita.validate_for(Provider::E2b).is_err());
    }
}

/// What novita-sandbox lacks is refused for Novita, at the option.
#[test]
fn novita_refuses_what_only_e2b_has() {
    let text = "from base;\ncopy \"a\" => \"/a\" (mode = 0o644, gzip = false);\n";
    let (message, help) = rule_text(rules::copy_gzip(Provider::Novita, Some(false)));
    let e = refused(&format!("provider novita;\n{text}"));
    assert_error(&e, &message, "3:33", &help);
    assert_eq!(e.count, 1, "{e}");
    assert!(load(text).validate().is_ok());
    assert!(load(&format!("provider novita;\n{}", text.replace("gzip = false", "gzip"))).validate().is_ok());
}
