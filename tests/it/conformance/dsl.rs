//! The DSL against the official SDKs: templates written with `template!` print exactly the JSON
//! the SDKs recorded (`tests/conformance/sdk/vectors/expected/NAME.json`), COPY vectors included (their
//! context is the fixture made at run time, so it is given with `context {expr}`).

use crate::support::{Fixture, fixture, read_data};
use sandbox_template::{JsonOptions, Secret, Template, template};

type Make = fn(&Fixture) -> Template;

const VECTORS: &[(&str, Make)] = &[
    ("run_cmd", |_| template! { from base; run "echo hello"; }),
    // `run_cmd_array` (`run "apt-get update", "apt-get install -y vim";`) does not compile: it runs
    // apt-get as the cloud's default user (tests/ui/fail/run_package_install_as_user.rs).
    ("run_cmd_user", |_| template! { from base; run "whoami" (user = "root"); run "a", "b" (user = "user"); }),
    ("run_cmd_user_empty", |_| template! { from base; run "whoami" (user = ""); }),
    ("set_user", |_| template! { from base; user "root"; run "id"; user "user"; }),
    ("set_workdir", |_| template! { from base; workdir "/app"; }),
    ("from_image", |_| template! { from image "ghcr.io/acme/app:1.2.3"; }),
    ("from_template", |_| template! { from template "my-base-template"; run "echo hi"; }),
    ("from_base_image", |_| template! { from base; }),
    ("from_python_image", |_| template! { from python "3.11-slim"; }),
    ("from_python_image_default", |_| template! { from python; }),
    ("from_node_image_default", |_| template! { from node; }),
    ("from_ubuntu_image", |_| template! { from ubuntu "24.04"; }),
    ("from_ubuntu_image_default", |_| template! { from ubuntu; }),
    ("from_debian_image", |_| template! { from debian "bookworm"; }),
    ("from_debian_image_default", |_| template! { from debian; }),
    ("from_bun_image", |_| template! { from bun "1.1"; }),
    ("from_bun_image_default", |_| template! { from bun; }),
    ("from_alpine_image_default", |_| template! { from alpine; }),
    ("from_arch_image_default", |_| template! { from arch; }),
    ("from_fedora_image_default", |_| template! { from fedora; }),
    ("skip_cache_before_from", |_| template! { skip_cache; from python "3"; run "a"; }),
    ("pip_install", |_| {
        template! {
            from python;
            pip install;
            pip install "numpy";
            pip install "pandas", "scikit-learn==1.5";
            pip install "requests" (global = false);
            pip install (global = false);
        }
    }),
    ("npm_install", |_| {
        template! {
            from node;
            npm install;
            npm install "express";
            npm install "typescript", "tsx" (global);
            npm install "vitest" (dev);
            npm install "x" (global, dev);
        }
    }),
    ("mcp_gateway", |_| template! { from template "mcp-gateway"; mcp server "exa", "brave"; }),
    ("devcontainer", |_| {
        template! {
            from template "devcontainer";
            git clone "https://example.com/p.git" => "/my-devcontainer";
            devcontainer prebuild "/my-devcontainer";
            devcontainer start "/my-devcontainer";
        }
    }),
    ("start_wait_for_port", |_| template! { from base; start "python -m http.server 8000" ready port 8000; }),
    ("start_wait_for_url", |_| template! { from base; start "npm start" ready url "http://localhost:3000/health"; }),
    ("start_wait_for_file", |_| template! { from base; start "./init.sh" ready file "/tmp/ready"; }),
    ("start_wait_for_timeout_small", |_| template! { from base; start "sleep infinity" ready timeout 10ms; }),
    ("start_string_ready", |_| template! { from base; start "node app.js" ready "curl -f localhost:3000"; }),
    ("set_ready_cmd_only", |_| template! { from base; ready file "/tmp/ok"; }),
    ("copy_file", |f| template! { context {f.ctx()}; from base; copy "fixture/hello.txt" => "/home/user/hello.txt"; }),
    ("copy_dir", |f| template! { context {f.ctx()}; from base; copy "fixture" => "/app/"; }),
    ("copy_glob", |f| template! { context {f.ctx()}; from base; copy "fixture/*.txt" => "/app/"; }),
    ("copy_dot", |f| template! { context {f.ctx()}; from base; copy "." => "/app/"; }),
    ("copy_dotslash", |f| template! { context {f.ctx()}; from base; copy "./fixture" => "/app/"; }),
    (
        "copy_ignore_patterns",
        |f| template! { context {f.ctx()}; ignore "**/*.log", "fixture/nested/**"; from base; copy "fixture" => "/app/"; },
    ),
    ("copy_dockerignore", |f| template! { context {f.ctx_ignore()}; from base; copy "app" => "/app/"; }),
    ("copy_mode_zero", |f| template! { context {f.ctx()}; from base; copy "fixture/hello.txt" => "/x" (mode = 0o0); }),
    ("copy_options", |f| {
        template! {
            context {f.ctx()};
            from base;
            copy "fixture/run.sh" => "/usr/local/bin/run" (force_upload, user = "root:root", mode = 0o755, resolve_symlinks, gzip = false);
        }
    }),
    (
        "copy_skip_cache",
        |f| template! { context {f.ctx()}; from base; run "a"; skip_cache; copy "top.txt" => "/t"; run "b"; },
    ),
    (
        "copy_symlink_noresolve",
        |f| template! { context {f.ctx()}; from base; copy "fixture/link-to-hello" => "/app/l"; },
    ),
    (
        "copy_symlink_resolve",
        |f| template! { context {f.ctx()}; from base; copy "fixture/link-to-hello" => "/app/l" (resolve_symlinks); },
    ),
];

/// The same against novita-sandbox's recordings (`vectors/novita/NAME.json`): the forms of what
/// only novita-sandbox has, and the ones both have.
const NOVITA: &[(&str, Make)] = &[
    ("from_oci_registry", |_| {
        template! {
            provider novita;
            from oci "iad.ocir.io/ns/repo:tag" (
                tenancy_ocid = "ocid1.tenancy",
                user_ocid = "ocid1.user",
                fingerprint = "aa:bb",
                private_key = {Secret::new("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n")},
                region = "us-ashburn-1",
            );
        }
    }),
    ("patch_cmd", |_| template! { provider novita; from image "ubuntu:22.04"; patch "echo patched > /etc/patched"; }),
    ("mcp_gateway", |_| template! { provider novita; from template "mcp-gateway"; mcp server "exa", "brave"; }),
    ("devcontainer", |_| {
        template! {
            provider novita;
            from template "devcontainer";
            git clone "https://example.com/p.git" => "/my-devcontainer";
            devcontainer prebuild "/my-devcontainer";
            devcontainer start "/my-devcontainer";
        }
    }),
];

#[test]
fn dsl_templates_print_novita_sandboxs_json() {
    let f = fixture();
    let mut failures = Vec::new();
    for (name, make) in NOVITA {
        let expected = read_data(&format!("vectors/novita/{name}.json"));
        match make(f).to_json() {
            Ok(json) if json == expected => {}
            Ok(json) => failures.push(format!("{name}: expected\n{expected}\ngot\n{json}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors differ:\n{}", failures.len(), NOVITA.len(), failures.join("\n\n"));
}

#[test]
fn dsl_templates_print_the_sdks_json() {
    let f = fixture();
    let mut failures = Vec::new();
    for (name, make) in VECTORS {
        let expected = read_data(&format!("vectors/expected/{name}.json"));
        match make(f).to_json_with(JsonOptions::default()) {
            Ok(json) if json == expected => {}
            Ok(json) => failures.push(format!("{name}: expected\n{expected}\ngot\n{json}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors differ:\n{}", failures.len(), VECTORS.len(), failures.join("\n\n"));
}
