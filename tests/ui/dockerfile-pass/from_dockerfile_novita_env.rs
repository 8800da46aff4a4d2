//! Novita expands `$PATH` in an imported `ENV`: no check.
use sandbox_template::{Provider, template};

fn main() {
    let t = template! {
        provider novita;
        from dockerfile "../dockerfile/env_path.Dockerfile";
    };
    assert_eq!(t.provider(), Provider::Novita);
    assert!(t.validate().is_ok());
}
