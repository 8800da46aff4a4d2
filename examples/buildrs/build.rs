//! Every `templates/*.tmpl` becomes a `pub static` (see `src/main.rs`). A mistake in a template
//! fails this build with rustc-style diagnostics pointing into the `.tmpl` file.

fn main() -> Result<(), sandbox_template::build_script::BuildError> {
    sandbox_template::build_script::compile_dir("templates")
}
