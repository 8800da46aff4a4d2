//! `start CMD ready CHECK;` and `ready CHECK;`: the start command and its ready check.

use proc_macro2::Span;
use sandbox_template_runtime::rules;
use syn::LitInt;

use super::Checker;
use crate::ast::{Ready, ReadyStmt, StartStmt};
use crate::diag::Diagnostic;
use crate::model::{OpKind, ReadyOp};

impl Checker<'_> {
    pub(super) fn start_stmt(&mut self, s: &StartStmt, span: Span) -> Option<OpKind> {
        self.second_finish(span);
        self.str(&s.command);
        self.lit_rule(&s.command, rules::command);
        let ready = self.ready(&s.ready)?;
        Some(OpKind::Start { command: s.command.clone(), ready })
    }

    pub(super) fn ready_stmt(&mut self, s: &ReadyStmt, span: Span) -> Option<OpKind> {
        self.second_finish(span);
        self.ready(&s.ready).map(OpKind::Ready)
    }

    pub(super) fn second_finish(&mut self, span: Span) {
        if self.finish.is_some() {
            self.cx.push(
                Diagnostic::new(span, "a second `start`/`ready`")
                    .help("a template has one start command and one ready check; remove this one"),
            );
        }
        self.finish = Some(span);
    }

    fn ready(&mut self, r: &Ready) -> Option<ReadyOp> {
        Some(match r {
            Ready::Port(lit) => {
                let v = self.int(lit)?;
                if let Err(rule) = rules::port(v) {
                    self.cx.push(Diagnostic::rule(lit.span(), &rule));
                    return None;
                }
                ReadyOp::Port(v as u16)
            }
            Ready::Url(url, status) => {
                self.str(url);
                if url.value().is_some_and(|u| u.trim().is_empty()) {
                    self.cx.push(Diagnostic::new(url.span(), "the ready URL is empty").help(
                        "write the URL to poll from inside the sandbox, e.g. `\"http://localhost:8000/health\"`",
                    ));
                }
                let status = match status {
                    Some(lit) => Some(self.http_status(lit)?),
                    None => None,
                };
                ReadyOp::Url(url.clone(), status)
            }
            Ready::Process(name) => {
                self.str(name);
                self.lit_rule(name, rules::command);
                ReadyOp::Process(name.clone())
            }
            Ready::File(path) => {
                self.str(path);
                self.lit_rule(path, |p| rules::path("ready file", p));
                ReadyOp::File(path.clone())
            }
            Ready::Timeout(lit) => ReadyOp::Timeout(self.timeout_ms(lit)?),
            Ready::Command(cmd) => {
                self.str(cmd);
                self.lit_rule(cmd, rules::command);
                ReadyOp::Command(cmd.clone())
            }
        })
    }

    fn http_status(&mut self, lit: &LitInt) -> Option<u16> {
        let v = self.int(lit)?;
        if let Err(rule) = rules::http_status(v) {
            self.cx.push(Diagnostic::rule(lit.span(), &rule));
            return None;
        }
        Some(v as u16)
    }

    /// `20s` or `500ms`, in milliseconds.
    fn timeout_ms(&mut self, lit: &LitInt) -> Option<u64> {
        let n: u64 = match lit.base10_parse() {
            Ok(n) => n,
            Err(_) => {
                self.cx.push(Diagnostic::new(lit.span(), "timeout out of range").help("write e.g. `timeout 20s`"));
                return None;
            }
        };
        match lit.suffix() {
            "s" => Some(n.saturating_mul(1000)),
            "ms" => Some(n),
            other => {
                let what = if other.is_empty() {
                    "a timeout needs a unit".to_owned()
                } else {
                    format!("unknown unit `{other}`")
                };
                self.cx
                    .push(Diagnostic::new(lit.span(), what).help(format!("write `timeout {n}s` or `timeout {n}ms`")));
                None
            }
        }
    }
}
