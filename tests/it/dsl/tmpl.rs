//! A `.tmpl` file and the same text in `template!` give the same template: the same JSON for
//! every provider.

use std::path::{Path, PathBuf};

use sandbox_template::{JsonOptions, Provider, Template, template};

fn tmpl(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/dsl/tmpl").join(name)
}

fn assert_same_json(from_file: &Template, from_macro: &Template, hashes: bool) {
    for provider in [Provider::E2b, Provider::Novita] {
        let mut options = JsonOptions::for_provider(provider);
        if !hashes {
            options = options.without_hashes();
        }
        assert_eq!(from_file.to_json_with(options).unwrap(), from_macro.to_json_with(options).unwrap());
    }
}

#[test]
fn api_tmpl_equals_the_macro() {
    let from_file = sandbox_template_dsl::tmpl::load(&tmpl("api.tmpl")).unwrap();
    let from_macro = template! {
        // The API image: everything but COPY (which needs the build context to hash).
        skip_cache;
        from python "3.12";
        env APP_ENV = "production", PORT = "8000";
        workdir "/app";
        pip install "fastapi", "uvicorn" (global = false);
        apt install "curl" (no_install_recommends);
        git clone "https://github.com/a/b" => "/src" (branch = "main", depth = 1);
        mkdir "/data" (mode = 0o750, user = "app");
        remove "/tmp/x" (recursive, force);
        rename "/a" => "/b";
        symlink "/usr/bin/python3" => "/usr/bin/python" (force);
        run "python -m compileall /app" (user = "root");
        start "uvicorn main:app --host 0.0.0.0 --port 8000" ready url "http://localhost:8000/health" status 200;
    };
    assert_same_json(&from_file, &from_macro, true);
    assert_eq!(from_file.to_dockerfile().unwrap(), from_macro.to_dockerfile().unwrap());
}

#[test]
fn private_registry_tmpl_equals_the_macro() {
    unsafe {
        std::env::set_var("DSL_TMPL_KEY", "key-id");
        std::env::set_var("DSL_TMPL_SECRET", "secret");
    }
    let from_file = sandbox_template_dsl::tmpl::load(&tmpl("private.tmpl")).unwrap();
    let from_macro = template! {
        from aws "1.dkr.ecr.us-west-2.amazonaws.com/app:1" (
            access_key_id = env("DSL_TMPL_KEY"),
            secret_access_key = env("DSL_TMPL_SECRET"),
            region = "us-west-2",
        );
        npm install "express" (global);
        bun install (dev);
        ready timeout 20s;
    };
    assert_same_json(&from_file, &from_macro, true);
}

fn site_macro() -> Template {
    template! {
        context "tmpl";
        from node "22";
        copy "site" => "/srv/site" (mode = 0o644);
        start "npx serve /srv/site" ready port 3000;
    }
}

#[test]
fn copy_tmpl_equals_the_macro_without_hashes() {
    let from_file = sandbox_template_dsl::tmpl::load(&tmpl("site.tmpl")).unwrap();
    let from_macro = site_macro();
    assert_eq!(from_file.context_dir(), from_macro.context_dir());
    assert_same_json(&from_file, &from_macro, false);
}

#[test]
fn copy_tmpl_equals_the_macro_with_hashes() {
    let from_file = sandbox_template_dsl::tmpl::load(&tmpl("site.tmpl")).unwrap();
    assert_same_json(&from_file, &site_macro(), true);
}

#[test]
fn tmpl_errors_point_into_the_file() {
    let err = sandbox_template_dsl::tmpl::load(&tmpl("broken.tmpl")).unwrap_err();
    assert_eq!(err.count, 4);
    assert!(err.rendered.contains("broken.tmpl:4:24"), "{err}");
}

#[test]
fn a_missing_semicolon_is_reported_where_it_belongs() {
    // At the end of `from base` (where the `;` goes), not at `run` on the next line.
    let err =
        sandbox_template_dsl::tmpl::load_str("from base\nrun \"echo\" (user = \"root\")\nrun \"x\";", "x.tmpl", None)
            .unwrap_err();
    assert!(err.rendered.contains("error: expected `;`\n --> x.tmpl:1:6"), "{err}");
    let err =
        sandbox_template_dsl::tmpl::load_str("from base;\nrun \"echo\" (user = \"root\")\nrun \"x\";", "x.tmpl", None)
            .unwrap_err();
    assert!(err.rendered.contains("error: expected `;`\n --> x.tmpl:2:26"), "{err}");
}

#[test]
fn errors_come_in_source_order() {
    // "A step before the base" is found only once every statement is read, yet comes first.
    let err =
        sandbox_template_dsl::tmpl::load_str("run \"echo\";\nfrom base;\nready port 0;", "x.tmpl", None).unwrap_err();
    assert_eq!(err.count, 2, "{err}");
    let step = err.rendered.find("x.tmpl:1:1").expect("the step before the base is reported");
    let port = err.rendered.find("x.tmpl:3:12").expect("the bad port is reported");
    assert!(step < port, "{err}");
}

#[test]
fn tmpl_files_cannot_run_rust() {
    let err = sandbox_template_dsl::tmpl::load_str("from python {v};", "x.tmpl", None).unwrap_err();
    assert!(err.rendered.contains("`{...}` is Rust code"), "{err}");
    assert!(err.rendered.contains("x.tmpl:1:13"), "{err}");
}

#[test]
fn steps_from_a_tmpl_file_remember_their_line() {
    let path = tmpl("api.tmpl");
    let t = sandbox_template_dsl::tmpl::load(&path).unwrap();
    let base = t.base_location().unwrap();
    assert!(base.file.ends_with("api.tmpl"), "{base}");
    assert_eq!((base.line, base.column), (3, 1));
    // `env` is line 4, `workdir` line 5, ..., `run` line 13.
    assert_eq!(t.steps()[0].location.line, 4);
    assert_eq!(t.steps().last().unwrap().location.line, 13);
    assert_eq!(t.finish_location().unwrap().line, 14);
}

#[test]
fn dockerfile_build_args_tmpl_equals_the_macro() {
    let from_file = sandbox_template_dsl::tmpl::load(&tmpl("dockerfile_args.tmpl")).unwrap();
    let from_macro = template! {
        from dockerfile "../../ui/dockerfile/args.Dockerfile" (arg PY = "3.12");
        run "echo after";
    };
    assert_same_json(&from_file, &from_macro, true);
    let json = from_file.to_json().unwrap();
    assert!(json.contains(r#""fromImage": "python:3.12""#), "{json}");
}

#[test]
fn tmpl_build_args_are_checked_against_the_dockerfiles_args() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/dockerfile");
    let text = "from dockerfile \"args.Dockerfile\" (arg PY = \"3.12\", arg PYTON = \"3\", arg PY = \"3.13\");";
    let err = sandbox_template_dsl::tmpl::load_str(text, "x.tmpl", Some(&dir)).unwrap_err();
    assert_eq!(err.count, 2, "{err}");
    assert!(
        err.rendered.contains("build arg `PYTON` is not declared by an `ARG` of `args.Dockerfile`\n --> x.tmpl:1:57"),
        "{err}"
    );
    assert!(err.rendered.contains("`PY`, `GREETING`"), "{err}");
    assert!(err.rendered.contains("build arg `PY` given twice\n --> x.tmpl:1:74"), "{err}");

    let err = sandbox_template_dsl::tmpl::load_str(
        "from dockerfile \"args.Dockerfile\" (arg PY = {v});",
        "x.tmpl",
        Some(&dir),
    )
    .unwrap_err();
    assert_eq!(err.count, 1, "{err}");
    assert!(err.rendered.contains("`{...}` is Rust code"), "{err}");
}

/// `provider novita;` and `(literal)` read from a file: the same template as the macro's, for
/// Novita by default, and still refused for E2B.
#[test]
fn provider_and_literal_env_tmpl_equals_the_macro() {
    let from_file = sandbox_template_dsl::tmpl::load(&tmpl("novita_env.tmpl")).unwrap();
    let from_macro = template! {
        provider novita;
        from python "3.12";
        env VIRTUAL_ENV = "/opt/venv", PATH = "${VIRTUAL_ENV}/bin:$PATH";
        env PS1 = "$USER> " (literal);
    };
    for t in [&from_file, &from_macro] {
        assert_eq!(t.provider(), Provider::Novita);
        assert!(t.validate_for(Provider::E2b).is_err());
    }
    assert_eq!(from_file.to_json().unwrap(), from_macro.to_json().unwrap());
    assert_eq!(
        from_file.to_json_with(JsonOptions::for_provider(Provider::Novita)).unwrap(),
        from_macro.to_json().unwrap()
    );
}

/// `check` and build.rs print rustc's layout: the arrow, the source line with carets, and the
/// help last, after a `|` line; a message's further lines are indented under its first, as rustc
/// indents them.
#[test]
fn diagnostics_are_laid_out_like_rustc() {
    let err =
        sandbox_template_dsl::tmpl::load_str("from pyhton \"3.12\";\nrun \"echo\";\n", "x.tmpl", None).unwrap_err();
    assert_eq!(
        err.rendered,
        "error: unknown base `pyhton`\n \
         --> x.tmpl:1:6\n  \
         |\n\
         1 | from pyhton \"3.12\";\n  \
         |      ^^^^^^\n  \
         |\n  \
         = help: did you mean `python`?\n\
         \n\
         error: could not check `x.tmpl` due to 1 previous error\n"
    );
}

/// `inherit_config = false` on `from image`/`from registry` turns image-config inheritance off,
/// in `.tmpl` files as in `template!`; it is a flag, and it is no credential.
#[test]
fn inherit_config_is_an_option_of_from_image() {
    let load = |text: &str| sandbox_template_dsl::tmpl::load_str(text, "x.tmpl", None);
    assert!(load("from image \"python:3.12\";").unwrap().inherits_config());
    assert!(!load("from image \"python:3.12\" (inherit_config = false);").unwrap().inherits_config());
    let from_macro = template! { from image "python:3.12" (inherit_config = false); };
    assert!(!from_macro.inherits_config());
    let err = load("from image \"python:3.12\" (inherit_config = \"no\");").unwrap_err().to_string();
    assert!(err.contains("option `inherit_config` is a flag"), "{err}");
    let err = load("from registry \"ghcr.io/a/b:1\" (inherit_config = false);").unwrap_err().to_string();
    assert!(err.contains("`from registry` needs credentials"), "{err}");
}
