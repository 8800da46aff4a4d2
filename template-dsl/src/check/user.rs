//! The user each `run` runs as, and the rule that needs it: a package manager's install or update
//! needs root ([`rules::package_install_as`]).
//!
//! Steps run as the cloud's default user ([`rules::DEFAULT_USER`], also after `from template`:
//! the cloud sets it again after the parent's steps) until a `user` statement changes it; a
//! `(user = ...)` option changes it for its statement only. A user written as `{expr}` is known
//! only at run time, so the statements it governs are left to `Template::validate`.

use sandbox_template_runtime::rules::{self, Rule};

use super::Checker;
use crate::ast::Str;
use crate::diag::Diagnostic;
use crate::model::{Op, OpKind};

/// Longest command quoted whole in the help.
const QUOTE_LIMIT: usize = 60;

impl Checker<'_> {
    /// Checks every `run` (a `from dockerfile`'s too) against the user it runs as.
    pub(super) fn run_users(&mut self, ops: &[Op]) {
        // `None`: known only at run time.
        let mut current = Some(rules::DEFAULT_USER.to_owned());
        for op in ops {
            match &op.kind {
                OpKind::User(user) => current = user.value(),
                OpKind::Run { commands, user } => {
                    // `(user = "")` means no user, as in the SDKs.
                    let runs_as = match user.as_ref().map(Str::value) {
                        Some(Some(u)) if !u.is_empty() => Some(u),
                        Some(None) => None,
                        _ => current.clone(),
                    };
                    let Some(runs_as) = runs_as else { continue };
                    for cmd in commands {
                        if let (Str::Lit(lit), Some(text)) = (cmd, cmd.value())
                            && let Err(rule) = rules::package_install_as(&text, &runs_as)
                        {
                            let whole = (commands.len() == 1).then_some(text.as_str());
                            self.cx.push(not_root(lit.span(), &rule, whole));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The rule's message, with help in the DSL's words; `command`: the statement's only command,
/// quoted in the help when it is short and plain.
fn not_root(span: proc_macro2::Span, rule: &Rule, command: Option<&str>) -> Diagnostic {
    let fix = match command {
        Some(c) if c.chars().count() <= QUOTE_LIMIT && !c.contains(['\n', '"', '\\']) => {
            format!("`run \"{c}\" (user = \"root\");`")
        }
        _ => "end this `run` with `(user = \"root\")`".to_owned(),
    };
    Diagnostic::new(span, rule.compile_message())
        .help(format!("run it as root: {fix}, or write `user \"root\";` before this `run`"))
}
