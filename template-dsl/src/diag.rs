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

    /// A broken runtime rule ([`sandbox_template_runtime::Rule`]), with the rule's own help.
    pub fn rule(span: Span, rule: &sandbox_template_runtime::Rule) -> Self {
        Diagnostic { span, message: rule.to_string(), help: rule.help() }
    }

    /// The message as `compile_error!` shows it: the help goes on its own line, as rustc prints it.
    pub fn text(&self) -> String {
        match &self.help {
            Some(help) => format!("{}\n\n= help: {help}", self.message),
            None => self.message.clone(),
        }
    }

    /// A `compile_error!` invocation spanned at the offending token.
    pub fn to_compile_error(&self) -> TokenStream {
        syn::Error::new(self.span, self.text()).to_compile_error()
    }
}

/// The separator between message and help inside a `syn::Error` made by [`err`].
const HELP_SEP: &str = "\n\n= help: ";

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

/// The help for an unknown word: "did you mean" if something is close, else the list.
pub(crate) fn unknown_help(word: &str, what: &str, candidates: &[&str]) -> String {
    let list = candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    match did_you_mean(word, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("{what}: {list}"),
    }
}
