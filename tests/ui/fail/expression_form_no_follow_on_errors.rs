use sandbox_template::{Template, template};

fn main() {
    // Only the typo is reported: the macro still produces a `Template`.
    let t: Template = template! {
        from base;
        wrokdir "/app";
    };
    let _ = t.steps().len();
}
