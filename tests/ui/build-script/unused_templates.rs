//! A crate that uses none of the templates build.rs generated for it (a `.tmpl` just added, say):
//! no `dead_code` warning points into `OUT_DIR`. `tests/ui.rs` writes `generated/` first.
// trybuild builds with `-A dead_code`: the attribute turns it back on.
#![deny(warnings, dead_code)]

mod templates {
    include!("generated/sandbox_templates.rs");
}

fn main() {}
