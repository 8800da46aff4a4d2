//! Every DSL statement expands into the builder call of the same meaning: the macro's template
//! serializes exactly like the hand-written builder chain.

use std::time::Duration;

use sandbox_template::{
    AptOptions, CopyOptions, EnvOptions, FileOptions, GcpServiceAccount, GitCloneOptions, JsInstallOptions,
    JsonOptions, MakeDirOptions, OciCredentials, PipOptions, Provider, RemoveOptions, RunOptions, Secret, Template,
    template, wait_for_file, wait_for_port, wait_for_process, wait_for_timeout, wait_for_url, wait_for_url_status,
};

fn json(t: &Template) -> String {
    t.to_json_with(JsonOptions::default()).unwrap()
}

fn novita(t: &Template) -> String {
    t.to_json_with(JsonOptions::for_provider(Provider::Novita)).unwrap()
}

macro_rules! same {
    ($dsl:expr, $builder:expr) => {{
        let (dsl, builder): (Template, Template) = ($dsl, $builder);
        assert_eq!(json(&dsl), json(&builder));
        assert_eq!(novita(&dsl), novita(&builder));
    }};
}

#[test]
fn bases() {
    same!(template! { from python; }, Template::new().from_python_image(None));
    same!(template! { from python "3.12"; }, Template::new().from_python_image("3.12"));
    same!(template! { from node "22"; }, Template::new().from_node_image("22"));
    same!(template! { from bun; }, Template::new().from_bun_image(None));
    same!(template! { from ubuntu "24.04"; }, Template::new().from_ubuntu_image("24.04"));
    same!(template! { from debian; }, Template::new().from_debian_image(None));
    // Novita refuses the non-Debian bases (novita-sandbox has none of them): E2B's JSON only.
    for (dsl, builder) in [
        (template! { from fedora; }, Template::new().from_fedora_image(None)),
        (template! { from alpine "3.20"; }, Template::new().from_alpine_image("3.20")),
        (template! { from arch; }, Template::new().from_arch_image(None)),
    ] {
        assert_eq!(json(&dsl), json(&builder));
        assert!(dsl.to_json_with(JsonOptions::for_provider(Provider::Novita)).is_err());
    }
    same!(template! { from base; }, Template::new().from_base_image());
    same!(template! { from image "ghcr.io/acme/app:1.0"; }, Template::new().from_image("ghcr.io/acme/app:1.0"));
    same!(template! { from template "my-base"; }, Template::new().from_template("my-base"));
}

#[test]
fn private_registries_take_secrets_from_the_environment() {
    unsafe {
        std::env::set_var("DSL_TEST_USER", "u");
        std::env::set_var("DSL_TEST_PASS", "p");
    }
    same!(
        template! { from image "acme/app:1" (username = env("DSL_TEST_USER"), password = env("DSL_TEST_PASS")); },
        Template::new().from_image_with_credentials(
            "acme/app:1",
            Secret::from_env("DSL_TEST_USER"),
            Secret::from_env("DSL_TEST_PASS")
        )
    );
    same!(
        template! { from registry "acme/app:1" (username = env("DSL_TEST_USER"), password = {Secret::new("p")}); },
        Template::new().from_image_with_credentials("acme/app:1", Secret::from_env("DSL_TEST_USER"), Secret::new("p"))
    );
    same!(
        template! { from aws "1.dkr.ecr.us-west-2.amazonaws.com/a:b" (access_key_id = env("DSL_TEST_USER"), secret_access_key = env("DSL_TEST_PASS"), region = "us-west-2"); },
        Template::new().from_aws_registry(
            "1.dkr.ecr.us-west-2.amazonaws.com/a:b",
            Secret::from_env("DSL_TEST_USER"),
            Secret::from_env("DSL_TEST_PASS"),
            "us-west-2"
        )
    );
    // Huawei and Oracle registries are Novita's alone: without `provider novita;` they do not
    // compile (tests/ui/fail/huawei_on_e2b.rs), and validation for E2B refuses them.
    let (dsl, builder) = (
        template! { provider novita; from huawei "swr.cn-north-4.myhuaweicloud.com/a/b:1" (access_key_id = env("DSL_TEST_USER"), secret_access_key = env("DSL_TEST_PASS"), region = "cn-north-4"); },
        Template::new().for_provider(Provider::Novita).from_huawei_registry(
            "swr.cn-north-4.myhuaweicloud.com/a/b:1",
            Secret::from_env("DSL_TEST_USER"),
            Secret::from_env("DSL_TEST_PASS"),
            "cn-north-4",
        ),
    );
    assert_eq!(novita(&dsl), novita(&builder));
    assert!(dsl.validate_for(Provider::E2b).is_err() && builder.validate_for(Provider::E2b).is_err());
    let oci = OciCredentials {
        tenancy_ocid: "ocid1.tenancy".into(),
        user_ocid: "ocid1.user".into(),
        fingerprint: "aa:bb".into(),
        private_key: Secret::from_env("DSL_TEST_PASS"),
        region: "us-ashburn-1".into(),
    };
    let region = "us-ashburn-1";
    let (dsl, builder) = (
        template! {
            provider novita;
            from oci "iad.ocir.io/ns/repo:tag" (tenancy_ocid = "ocid1.tenancy", user_ocid = {"ocid1.user"}, fingerprint = "aa:bb", private_key = env("DSL_TEST_PASS"), region = {region});
            patch "echo patched > /etc/patched";
        },
        Template::new()
            .for_provider(Provider::Novita)
            .from_oci_registry("iad.ocir.io/ns/repo:tag", oci)
            .set_patch_cmd("echo patched > /etc/patched"),
    );
    assert_eq!(dsl.registry(), builder.registry());
    assert_eq!(dsl.pre_boot_script(), builder.pre_boot_script());
    assert!(dsl.validate_for(Provider::E2b).is_err());
    same!(
        template! { from gcp "us-docker.pkg.dev/p/r/a:1" (service_account_json = env("DSL_TEST_PASS")); },
        Template::new()
            .from_gcp_registry("us-docker.pkg.dev/p/r/a:1", GcpServiceAccount::json(Secret::from_env("DSL_TEST_PASS")))
    );
    // A `file(...)` secret stays a file reference, read when the build runs.
    let t = template! { from gcp "us-docker.pkg.dev/p/r/a:1" (service_account_json = file("sa.json")); };
    let expected = Template::new().from_gcp_registry("us-docker.pkg.dev/p/r/a:1", GcpServiceAccount::file("sa.json"));
    assert_eq!(t.registry(), expected.registry());
}

#[test]
fn steps() {
    same!(
        template! { from base; run "a", "b"; run "c" (user = "root"); },
        Template::new().from_base_image().run_cmd(["a", "b"]).run_cmd_with("c", RunOptions::new().user("root"))
    );
    same!(
        template! { from base; env APP_ENV = "prod", "PORT" = "8000"; workdir "/app"; user "app"; },
        Template::new()
            .from_base_image()
            .set_envs([("APP_ENV", "prod"), ("PORT", "8000")])
            .set_workdir("/app")
            .set_user("app")
    );
    same!(
        template! {
            from base;
            pip install "fastapi", "uvicorn";
            pip install;
            pip install "x" (global = false);
            npm install "express" (global, dev);
            npm install;
            bun install "hono" (dev = true);
            apt install "curl", "git" (no_install_recommends, fix_missing);
            apt install "vim";
        },
        Template::new()
            .from_base_image()
            .pip_install(["fastapi", "uvicorn"])
            .pip_install(Vec::<String>::new())
            .pip_install_with("x", PipOptions::new().global(false))
            .npm_install_with("express", JsInstallOptions::new().global(true).dev(true))
            .npm_install(Vec::<String>::new())
            .bun_install_with("hono", JsInstallOptions::new().dev(true))
            .apt_install_with(["curl", "git"], AptOptions::new().no_install_recommends(true).fix_missing(true))
            .apt_install("vim")
    );
    same!(
        template! {
            from base;
            git clone "https://github.com/a/b";
            git clone "https://github.com/a/b" => "/src" (branch = "main", depth = 1, user = "root");
        },
        Template::new().from_base_image().git_clone("https://github.com/a/b").git_clone_with(
            "https://github.com/a/b",
            GitCloneOptions::new().path("/src").branch("main").depth(1).user("root")
        )
    );
    same!(
        template! {
            from base;
            mkdir "/a", "/b" (mode = 0o750, user = "app");
            mkdir "/c";
            remove "/tmp/x" (recursive, force, user = "root");
            remove "/tmp/y";
            rename "/a" => "/b" (force);
            rename "/c" => "/d";
            symlink "/usr/bin/python3" => "/usr/bin/python" (force = true, user = "root");
            symlink "/x" => "/y";
        },
        Template::new()
            .from_base_image()
            .make_dir_with(["/a", "/b"], MakeDirOptions::new().mode(0o750).user("app"))
            .make_dir("/c")
            .remove_with("/tmp/x", RemoveOptions::new().recursive(true).force(true).user("root"))
            .remove("/tmp/y")
            .rename_with("/a", "/b", FileOptions::new().force(true))
            .rename("/c", "/d")
            .make_symlink_with("/usr/bin/python3", "/usr/bin/python", FileOptions::new().force(true).user("root"))
            .make_symlink("/x", "/y")
    );
}

#[test]
fn copy_resolves_sources_against_this_file() {
    let t = template! {
        from python "3.12";
        copy "fixtures/app/main.py" => "/app/main.py";
        copy "fixtures/app/static", "fixtures/Dockerfile" => "/app/" (user = "app", mode = 0o755, force_upload, resolve_symlinks = false, gzip = false);
    };
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/dsl");
    let b = Template::new()
        .with_context(&here)
        .from_python_image("3.12")
        .copy("fixtures/app/main.py", "/app/main.py")
        .copy_with(
            ["fixtures/app/static", "fixtures/Dockerfile"],
            "/app/",
            CopyOptions::new().user("app").mode(0o755).force_upload(true).resolve_symlinks(false).gzip(false),
        );
    assert_eq!(json(&t), json(&b));
    assert!(json(&t).contains("filesHash"));
    assert_eq!(t.context_dir(), here);
}

/// `env ... (literal)` is `set_envs_with(.., EnvOptions::new().literal(true))`; `provider novita;`
/// is `for_provider(Provider::Novita)`.
#[test]
fn literal_env_and_provider() {
    same!(
        template! { from base; env PS1 = "$USER> ", A = "x" (literal); },
        Template::new()
            .from_base_image()
            .set_envs_with([("PS1", "$USER> "), ("A", "x")], EnvOptions::new().literal(true))
    );
    let t = template! { provider novita; from base; env PATH = "/opt/bin:$PATH"; };
    let b = Template::new().for_provider(Provider::Novita).from_base_image().set_envs([("PATH", "/opt/bin:$PATH")]);
    assert_eq!(t.provider(), b.provider());
    assert_eq!(t.to_json().unwrap(), b.to_json().unwrap());
    assert_eq!(t.to_json().unwrap(), novita(&b));
}

#[test]
fn header_statements() {
    let t = template! {
        context "fixtures";
        ignore "**/*.log", "target";
        skip_cache;
        from python "3.12";
        run "a";
        skip_cache;
        run "b";
    };
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/dsl/fixtures");
    let b = Template::new()
        .with_context(&here)
        .with_ignore_patterns(["**/*.log", "target"])
        .skip_cache()
        .from_python_image("3.12")
        .run_cmd("a")
        .skip_cache()
        .run_cmd("b");
    assert_eq!(json(&t), json(&b));
    assert!(t.is_forced());
    assert_eq!(t.context_dir(), here);
    assert_eq!(t.ignore_patterns(), ["**/*.log", "target"]);
}

#[test]
fn ready_checks() {
    same!(
        template! { from base; start "srv" ready port 8000; },
        Template::new().from_base_image().set_start_cmd("srv", wait_for_port(8000))
    );
    same!(
        template! { from base; start "srv" ready url "http://localhost/health"; },
        Template::new().from_base_image().set_start_cmd("srv", wait_for_url("http://localhost/health"))
    );
    same!(
        template! { from base; start "srv" ready url "http://localhost/" status 204; },
        Template::new().from_base_image().set_start_cmd("srv", wait_for_url_status("http://localhost/", 204))
    );
    same!(
        template! { from base; start "srv" ready process "nginx"; },
        Template::new().from_base_image().set_start_cmd("srv", wait_for_process("nginx"))
    );
    same!(
        template! { from base; start "srv" ready file "/tmp/ready"; },
        Template::new().from_base_image().set_start_cmd("srv", wait_for_file("/tmp/ready"))
    );
    same!(
        template! { from base; start "srv" ready timeout 20s; },
        Template::new().from_base_image().set_start_cmd("srv", wait_for_timeout(Duration::from_secs(20)))
    );
    same!(
        template! { from base; ready timeout 1500ms; },
        Template::new().from_base_image().set_ready_cmd(wait_for_timeout(Duration::from_millis(1500)))
    );
    same!(
        template! { from base; ready "curl -f localhost:3000"; },
        Template::new().from_base_image().set_ready_cmd("curl -f localhost:3000")
    );
}

#[test]
fn rust_values_in_string_positions() {
    let version = "3.11";
    let packages = vec!["flask", "gunicorn"];
    let port_check = wait_for_port(9000);
    let home = String::from("/srv");
    let t = template! {
        from python {version};
        pip install {packages.clone()};
        run "echo one", {format!("echo {}", 2)};
        env HOME = {home.clone()}, MODE = "x";
        workdir {home.as_str()};
        start {format!("gunicorn -b :{}", 9000)} ready {port_check.clone()};
    };
    let b = Template::new()
        .from_python_image("3.11")
        .pip_install(["flask", "gunicorn"])
        .run_cmd(["echo one", "echo 2"])
        .set_envs([("HOME", "/srv"), ("MODE", "x")])
        .set_workdir("/srv")
        .set_start_cmd("gunicorn -b :9000", wait_for_port(9000));
    assert_eq!(json(&t), json(&b));

    // Values from Rust are checked by the same rules when the template is validated.
    let bad_key_value = "";
    let t = template! { from base; workdir {bad_key_value}; };
    let err = t.validate().unwrap_err().to_string();
    assert!(err.contains("workdir is empty"), "{err}");
}

#[test]
fn steps_remember_the_dsl_line_they_came_from() {
    let line = line!() + 3;
    let t = template! {
        from base;
        run "echo";
        workdir "/app";
    };
    let steps = t.steps();
    assert_eq!(steps[0].location.line, line);
    assert_eq!(steps[1].location.line, line + 1);
    assert!(steps[0].location.file.ends_with("it/dsl/statements.rs"), "{}", steps[0].location.file);
    assert_eq!(t.base_location().unwrap().line, line - 1);
}

template! {
    /// The API image.
    pub static API = {
        from python "3.12";
        run "pip install fastapi";
    };

    #[allow(dead_code)]
    static WORKER = {
        from node;
    };
}

#[test]
fn item_form_defines_lazy_statics() {
    same!(API.clone(), Template::new().from_python_image("3.12").run_cmd("pip install fastapi"));
    same!(WORKER.clone(), Template::new().from_node_image(None));
}
