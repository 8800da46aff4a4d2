//! Whatever text or tokens reach the parser and checker, they answer with diagnostics, never a
//! panic (a panic in a proc macro is an unreadable compiler error).

use std::str::FromStr;

use proc_macro2::TokenStream;
use proptest::prelude::*;
use sandbox_template_dsl::{BASES, STATEMENTS};

fn words() -> Vec<&'static str> {
    STATEMENTS.iter().chain(BASES).chain(OTHER_WORDS).copied().collect()
}

/// Pieces of the grammar besides the statement keywords and base kinds ([`STATEMENTS`], [`BASES`], taken
/// from the parser so a new one is fuzzed too), so that generated inputs get deep into the parser, not only the
/// lexer.
const OTHER_WORDS: &[&str] = &[
    "install",
    "clone",
    "port",
    "url",
    "status",
    "process",
    "file",
    "timeout",
    "mode",
    "force",
    "global",
    "dev",
    "username",
    "password",
    "region",
    "true",
    "false",
    ";",
    ",",
    "=>",
    "=",
    "(",
    ")",
    "{",
    "}",
    "\"\"",
    "\"/app\"",
    "\"3.12\"",
    "\"..\"",
    "\"/etc\"",
    "\"a\\0b\"",
    "\"-x\"",
    "0",
    "8000",
    "70000",
    "0o755",
    "0o17777",
    "20s",
    "5ms",
    "99999999999999999999",
    "env(\"X\")",
    "file(\"k\")",
    "{x}",
    "#",
    "[doc = \"d\"]",
    "pub",
    "static",
    "NAME",
    ":",
    "'a",
    "r#\"raw\"#",
    "b\"bytes\"",
    "1.5",
    "'c'",
];

fn grammar_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(words()), 0..40).prop_map(|w| w.join(" "))
}

fn check_everything(text: &str) {
    // The `.tmpl` path: lexer, parser, checker, interpreter.
    let _ = sandbox_template_dsl::tmpl::load_str(text, "fuzz.tmpl", None);
    let _ =
        sandbox_template_dsl::tmpl::load_str(text, "fuzz.tmpl", Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))));
    // The macro path: expression and item forms, lowering.
    if let Ok(tokens) = TokenStream::from_str(text) {
        let _ = sandbox_template_dsl::expand(tokens, None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check_everything(&text);
    }

    #[test]
    fn grammar_shaped_text_never_panics(text in grammar_text()) {
        check_everything(&text);
    }

    #[test]
    fn item_form_never_panics(body in grammar_text(), attrs in grammar_text()) {
        check_everything(&format!("{attrs} pub static A = {{ {body} }};"));
    }
}

#[test]
fn valid_text_really_is_accepted() {
    // Guards the property tests above against passing because everything is rejected.
    let t = sandbox_template_dsl::tmpl::load_str("from python \"3.12\"; run \"x\" (user = \"root\");", "ok.tmpl", None)
        .unwrap();
    assert_eq!(t.steps().len(), 1);
}
