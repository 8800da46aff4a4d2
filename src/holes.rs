//! What a `{expr}` of `template!` may be, one trait per kind of hole, for the expansion only
//! (`template-dsl/src/lower.rs` passes every `{expr}` through one of them).
//!
//! Why: the builder's parameters are `impl Into<String>` & co., and a value of the wrong type
//! there (a port number where the DSL takes a string) got rustc's list of six `From<T> for
//! String` impls and nothing about the DSL. Each trait here carries its own
//! `#[diagnostic::on_unimplemented]`: the error points at the `{expr}` with one line saying what
//! to write. The blanket impls accept exactly what the builder accepted before, so nothing that
//! compiled is refused; `#[diagnostic::do_not_recommend]` keeps rustc from reporting the blanket
//! impl's own bound (`Into<String>`, with its list) instead of ours. The expansion calls the
//! trait's method by path (`StrValue::into_value(expr)`) rather than through a generic function,
//! which would add a "required by a bound in ..." note pointing into this file.

use std::path::PathBuf;

use sandbox_template_runtime::{ReadyCmd, Secret, Strings};

/// A `{expr}` in a string position (`STR`): `&str`, `String`, or anything else that converts
/// into `T` (`String`; a `Version` after `from python`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a string",
    label = "a string goes here",
    note = "`{{expr}}` here is a `&str` or a `String`: write e.g. `{{port.to_string()}}` or `{{format!(\"{{host}}:{{port}}\")}}`"
)]
pub trait StrValue<T> {
    /// The value the builder takes.
    fn into_value(self) -> T;
}

#[diagnostic::do_not_recommend]
impl<T, V: Into<T>> StrValue<T> for V {
    fn into_value(self) -> T {
        self.into()
    }
}

/// A single `{expr}` in a list position (`run`, `copy` sources, `pip install`, ...): one string,
/// or a `Vec`, array or slice of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a string or a list of strings",
    label = "a string or a list of strings goes here",
    note = "a list here is a `Vec`, an array or a slice of `&str` or `String`: write e.g. `{{vec![name.to_string()]}}`, or list the values: `\"a\", {{b}}`"
)]
pub trait StringsValue {
    /// The value the builder takes.
    fn into_value(self) -> Strings;
}

#[diagnostic::do_not_recommend]
impl<V: Into<Strings>> StringsValue for V {
    fn into_value(self) -> Strings {
        self.into()
    }
}

/// A `{expr}` in a secret position: a `Secret`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Secret`",
    label = "a `Secret` goes here",
    note = "make one with `Secret::new(value)`, `Secret::from_env(\"VAR\")` or `Secret::from_file(path)`, or write `env(\"VAR\")` or `file(\"path\")` instead of `{{expr}}`"
)]
pub trait SecretValue {
    /// The value the builder takes.
    fn into_value(self) -> Secret;
}

#[diagnostic::do_not_recommend]
impl<V: Into<Secret>> SecretValue for V {
    fn into_value(self) -> Secret {
        self.into()
    }
}

/// A `{expr}` after `ready`: a ready check, or a shell command as a string.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a ready check",
    label = "a ready check goes here",
    note = "make one with `wait_for_port(port)`, `wait_for_url(url)`, `wait_for_file(path)`, `wait_for_process(name)` or `wait_for_timeout(duration)`, or give a shell command as a string"
)]
pub trait ReadyValue {
    /// The value the builder takes.
    fn into_value(self) -> ReadyCmd;
}

#[diagnostic::do_not_recommend]
impl<V: Into<ReadyCmd>> ReadyValue for V {
    fn into_value(self) -> ReadyCmd {
        self.into()
    }
}

/// `context {expr}`: a folder path.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a folder path",
    label = "the context folder goes here",
    note = "`context {{expr}}` is a `&str`, `String`, `&Path` or `PathBuf`"
)]
pub trait DirValue {
    /// The value the builder takes.
    fn into_value(self) -> PathBuf;
}

#[diagnostic::do_not_recommend]
impl<V: Into<PathBuf>> DirValue for V {
    fn into_value(self) -> PathBuf {
        self.into()
    }
}
