//! `embed;` compiles the COPY sources into the binary: the template no longer needs the folder.

use sandbox_template::context::ContextSource;
use sandbox_template::{JsonOptions, Template, template};

fn embedded() -> Template {
    template! {
        context "fixtures";
        embed;
        from python "3.12";
        copy "app" => "/app";
    }
}

#[test]
fn embed_compiles_the_copied_files_in() {
    let t = embedded();
    let ContextSource::Embedded(files) = t.context() else { panic!("the context should be embedded") };
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/dsl/fixtures");
    assert_eq!(files.source_dir(), here.to_str().unwrap());
    let paths: Vec<&str> = files.entries().iter().map(|e| e.path).collect();
    // The context root, the copied folder and its contents; nothing that is not copied.
    assert_eq!(paths, [".", "app", "app/main.py", "app/static", "app/static/site.css"]);
    let main = files.entries().iter().find(|e| e.path == "app/main.py").unwrap();
    assert_eq!(main.kind, sandbox_template::context::EmbeddedKind::File(b"print(\"hi\")\n"));
    assert_eq!(main.mode & 0o170000, 0o100000, "a regular file's st_mode");
}

#[test]
fn embedded_files_hash_like_the_folder() {
    let from_disk = template! {
        context "fixtures";
        from python "3.12";
        copy "app" => "/app";
    };
    assert_eq!(embedded().to_json_with(JsonOptions::default()).unwrap(), from_disk.to_json().unwrap());
}
