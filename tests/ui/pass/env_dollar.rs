//! `$` in env values: refused on E2B unless literal (see `fail/env_refers_to_*.rs`), expanded on
//! Novita.
use sandbox_template::{Provider, template};

fn main() {
    // `(literal)`: the text `$USER` on purpose, on every provider.
    let prompt = template! {
        from base;
        env PS1 = "$USER> ", PRICE = "5$" (literal);
        env PLAIN = "no reference: 5$ $$ $1";
    };
    assert!(prompt.validate().is_ok());
    assert!(prompt.to_json().unwrap().contains(r#""$USER> ""#));
    assert!(prompt.validate_for(Provider::Novita).is_ok());

    // Novita expands `$VAR` in its env script: no check, and the template is a Novita one.
    let venv = template! {
        provider novita;
        from python "3.12";
        env VIRTUAL_ENV = "/opt/venv", PATH = "${VIRTUAL_ENV}/bin:$PATH";
    };
    assert_eq!(venv.provider(), Provider::Novita);
    assert!(venv.validate().is_ok());
    assert!(venv.validate_for(Provider::E2b).is_err());
    assert!(venv.to_json().unwrap().contains("novita-image-env"));
}
