//! Error collection: every problem in a template is reported at once (like serde_derive's `Diagnostics`;
//! named for what it holds, since "context" here means the build context).

use proc_macro2::{Span, TokenStream};
use sandbox_template_runtime::__private::did_you_mean;

/// One problem in a template: where, what is wrong, and what to write instead.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// The offending token.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic { span, message: message.into(), help: None }
    }

    /// Adds what to write instead.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// A broken runtime rule ([`sandbox_template_runtime::Rule`]), with the rule's own help, in
    /// rustc's style ([`Rule::compile_message`](sandbox_template_runtime::Rule::compile_message):
    /// the few rules whose run-time text is an SDK's sentence read like every other diagnostic here).
    pub fn rule(span: Span, rule: &sandbox_template_runtime::Rule) -> Self {
        Diagnostic { span, message: rule.compile_message(), help: rule.help() }
    }

    /// The message as `compile_error!` shows it: the message, then `= help: ...` on the next line.
    ///
    /// Why this layout: on stable, a proc macro reports an error only as `compile_error!("...")` at
    /// a span, and rustc prints the whole text between `error: ` and the `-->` arrow, indenting
    /// every further line under the first. rustc's own layout (the help under the source line,
    /// after `  |`) needs `proc_macro::Diagnostic`, which is nightly-only. What else stable allows
    /// was tried on rustc 1.95 and is worse:
    /// * the help as a second `compile_error!` at the same span: a second `error:` block, and
    ///   rustc counts two errors for one mistake;
    /// * a trait bound failing through `#[diagnostic::on_unimplemented]` (what `proc-diag` does):
    ///   the note does come after the source line, but with `error[E0277]`, "the trait `X` is not
    ///   implemented" and "required by a bound" lines about a trait the user never wrote, and only
    ///   after type checking, out of source order with the other errors;
    /// * `proc-macro-error2` and `manyhow` append `\n\n  = help: ...` to the message on stable:
    ///   the layout here, except for the empty line, which rustc prints as a line of spaces
    ///   between message and help (the "after an empty line").
    ///
    /// So the help is the message's second line, marked `= help:` as rustc marks it, and
    /// `sandbox-template check` and build.rs (which render themselves, see
    /// [`crate::tmpl::render`]) print the same message and help in rustc's full layout.
    pub fn text(&self) -> String {
        match &self.help {
            Some(help) => format!("{}\n= help: {help}", self.message),
            None => self.message.clone(),
        }
    }

    /// A `compile_error!` invocation spanned at the offending token.
    pub fn to_compile_error(&self) -> TokenStream {
        syn::Error::new(self.span, self.text()).to_compile_error()
    }
}

/// The separator between message and help inside a `syn::Error` made by [`err`] (the same as
/// [`Diagnostic::text`]'s, so that an error syn reports unsplit still reads right).
const HELP_SEP: &str = "\n= help: ";

/// A parse error with help, for use inside syn parsers (split again by [`From<syn::Error>`]).
pub(crate) fn err(span: Span, message: impl std::fmt::Display, help: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, format!("{message}{HELP_SEP}{help}"))
}

impl From<syn::Error> for Diagnostic {
    fn from(e: syn::Error) -> Self {
        let text = e.to_string();
        match text.split_once(HELP_SEP) {
            Some((m, h)) => Diagnostic::new(e.span(), m).help(h),
            None => Diagnostic::new(e.span(), text),
        }
    }
}

/// Collects diagnostics while a template is parsed and checked.
#[derive(Debug, Default)]
pub struct Diagnostics {
    errors: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// Records a broken rule at `span`.
    pub fn rule(&mut self, span: Span, result: Result<(), sandbox_template_runtime::Rule>) {
        if let Err(rule) = result {
            self.push(Diagnostic::rule(span, &rule));
        }
    }

    /// Records a syn error (each of its messages).
    pub fn syn(&mut self, e: syn::Error) {
        for one in e {
            self.push(one.into());
        }
    }

    /// Whether nothing went wrong so far.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many problems so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Everything collected.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.errors
    }
}

/// A sentence written for elsewhere (the SDKs' Dockerfile errors, kept as they are at run time
/// for the conformance suite) in rustc's style: the first word lowercased unless it names
/// something (an instruction such as `FROM`, `Dockerfile`), and no trailing period.
pub(crate) fn rustc_case(sentence: &str) -> String {
    let first = sentence.split(' ').next().unwrap_or_default();
    let mut chars = first.chars();
    let capitalized = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| !c.is_ascii_uppercase())
        && first != "Dockerfile";
    let text = sentence.strip_suffix('.').unwrap_or(sentence);
    if capitalized { format!("{}{}", text[..1].to_ascii_lowercase(), &text[1..]) } else { text.to_owned() }
}

/// The help for an unknown word: "did you mean" if something is close, else the list.
pub(crate) fn unknown_help(word: &str, what: &str, candidates: &[&str]) -> String {
    let list = candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    match did_you_mean(word, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("{what}: {list}"),
    }
}

#[cfg(test)]
mod tests {
    use super::rustc_case;

    #[test]
    fn sdk_sentences_read_like_rustc() {
        assert_eq!(
            rustc_case("Multi-stage Dockerfiles are not supported"),
            "multi-stage Dockerfiles are not supported"
        );
        assert_eq!(
            rustc_case("Dockerfile must contain a FROM instruction"),
            "Dockerfile must contain a FROM instruction"
        );
        assert_eq!(rustc_case("FROM needs an image"), "FROM needs an image");
        assert_eq!(rustc_case("Use a relative path."), "use a relative path");
        assert_eq!(rustc_case("unknown instruction `X`"), "unknown instruction `X`");
    }
}
