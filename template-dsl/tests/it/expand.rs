//! What the expansion contains: rebuild tracking of copied files, spans and fallbacks.

use std::str::FromStr;

use proc_macro2::TokenStream;

fn expand(text: &str, dir: &std::path::Path) -> String {
    sandbox_template_dsl::expand(TokenStream::from_str(text).unwrap(), Some(dir.to_owned())).to_string()
}

#[test]
fn copied_files_and_dockerfiles_are_tracked_for_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/main.py"), "print(1)").unwrap();
    std::fs::write(dir.path().join("app/util.py"), "x = 1").unwrap();
    let out = expand(r#"from python "3.12"; copy "app" => "/app";"#, dir.path());
    for file in ["app/main.py", "app/util.py"] {
        let path = dir.path().join(file);
        assert!(out.contains(&format!("include_bytes ! ({:?})", path.to_str().unwrap())), "{file} untracked: {out}");
    }
    assert!(out.contains(&format!("with_context ({:?})", dir.path().to_str().unwrap())), "{out}");
}

#[test]
fn errors_expand_to_compile_errors_and_a_template() {
    let dir = tempfile::tempdir().unwrap();
    let out = expand(r#"from python "3.12"; rnu "x"; env 1X = "y";"#, dir.path());
    assert_eq!(out.matches("compile_error").count(), 2, "{out}");
    assert!(out.contains(":: sandbox_template :: __private :: Template :: new ()"), "{out}");
}

#[test]
fn item_form_errors_keep_the_statics() {
    let dir = tempfile::tempdir().unwrap();
    let out = expand("/// Docs.\npub static A = { from base; workdir \"\"; }; static B = { from node; };", dir.path());
    assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    assert!(out.contains("pub static A : :: sandbox_template :: __private :: LazyLock"), "{out}");
    assert!(out.contains("static B : :: sandbox_template :: __private :: LazyLock"), "{out}");
    assert!(out.contains("# [doc = \" Docs.\"]"), "{out}");
}

#[cfg(feature = "build-script")]
#[test]
fn build_inputs_include_copied_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(dir.path().join("web.tmpl"), "from node;\ncopy \"site.html\" => \"/srv/\";\n").unwrap();
    let (code, inputs) = sandbox_template_dsl::build::generate(dir.path()).unwrap();
    assert!(inputs.iter().any(|p| p.ends_with("site.html")), "{inputs:?}");
    assert!(code.contains("pub static WEB"), "{code}");
}
