//! Statement options (`(user = "app", mode = 0o755, ...)`): which are known where, their value
//! types, numbers, and secrets.

use std::collections::HashMap;

use proc_macro2::Span;
use sandbox_template_runtime::rules::{self, Rule};
use syn::LitInt;

use super::Checker;
use crate::ast::{Opt, OptValue, Options, SecretValue, Str};
use crate::diag::{Diagnostic, unknown_help};
use crate::model::SecretSrc;

/// The options written on one statement, by name, after unknown and repeated ones are reported.
pub(super) struct Opts<'o>(HashMap<String, &'o Opt>);

impl Opts<'_> {
    /// Whether the option `name` was written (well-formed or not).
    pub(super) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Where the option `name` is written (its name), if it is.
    pub(super) fn name_span(&self, name: &str) -> Option<Span> {
        self.0.get(name).map(|opt| opt.name.span())
    }
}

impl Checker<'_> {
    /// The options of `stmt`, reporting unknown ones (with "did you mean"), names where none
    /// belong, and repeats.
    pub(super) fn options<'o>(&mut self, stmt: &str, options: &'o Options, allowed: &[&str]) -> Opts<'o> {
        let mut map = HashMap::new();
        for opt in &options.items {
            let name = opt.name.to_string();
            if !allowed.contains(&name.as_str()) {
                let help = if allowed.is_empty() {
                    format!("`{stmt}` takes no options")
                } else {
                    unknown_help(&name, &format!("options of `{stmt}`"), allowed)
                };
                self.cx
                    .push(Diagnostic::new(opt.name.span(), format!("unknown option `{name}` for `{stmt}`")).help(help));
            } else if let Some(key) = &opt.key {
                self.cx.push(
                    Diagnostic::new(key.span(), format!("option `{name}` of `{stmt}` takes no name"))
                        .help(format!("write `{name} = ...`")),
                );
            } else if map.insert(name.clone(), opt).is_some() {
                self.cx.push(
                    Diagnostic::new(opt.name.span(), format!("option `{name}` given twice"))
                        .help("write each option once"),
                );
            }
        }
        Opts(map)
    }

    pub(super) fn opt_str(&mut self, o: &Opts, name: &str) -> Option<Str> {
        let opt = o.0.get(name)?;
        match &opt.value {
            Some(OptValue::Str(s)) => {
                self.str(s);
                Some(s.clone())
            }
            _ => {
                self.cx.push(
                    Diagnostic::new(opt.name.span(), format!("option `{name}` takes a string"))
                        .help(format!("write `{name} = \"...\"`")),
                );
                None
            }
        }
    }

    pub(super) fn opt_user(&mut self, o: &Opts) -> Option<Str> {
        let user = self.opt_str(o, "user")?;
        // An empty user means "no user", as in the SDKs.
        self.lit_rule(&user, |u| if u.is_empty() { Ok(()) } else { rules::user(u) });
        Some(user)
    }

    pub(super) fn opt_flag(&mut self, o: &Opts, name: &str) -> Option<bool> {
        let opt = o.0.get(name)?;
        match &opt.value {
            None => Some(true),
            Some(OptValue::Bool(b)) => Some(b.value),
            Some(v) => {
                self.cx.push(
                    Diagnostic::new(v.span(), format!("option `{name}` is a flag"))
                        .help(format!("write `{name}` or `{name} = false`")),
                );
                None
            }
        }
    }

    pub(super) fn opt_int<'o>(&mut self, o: &Opts<'o>, name: &str) -> Option<(u32, &'o LitInt)> {
        let opt = *o.0.get(name)?;
        match &opt.value {
            Some(OptValue::Int(lit)) => self.int(lit).map(|v| (v, lit)),
            _ => {
                self.cx.push(
                    Diagnostic::new(opt.name.span(), format!("option `{name}` takes an integer"))
                        .help(format!("write `{name} = 1`")),
                );
                None
            }
        }
    }

    /// A plain `u32` literal (no suffix).
    pub(super) fn int(&mut self, lit: &LitInt) -> Option<u32> {
        if !lit.suffix().is_empty() {
            self.cx.push(
                Diagnostic::new(lit.span(), "unexpected suffix on a number")
                    .help(format!("write `{}`", lit.base10_digits())),
            );
            return None;
        }
        match lit.base10_parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.cx.push(Diagnostic::new(lit.span(), "number out of range").help("write a smaller number"));
                None
            }
        }
    }

    pub(super) fn opt_mode(&mut self, o: &Opts) -> Option<u32> {
        let (mode, lit) = self.opt_int(o, "mode")?;
        if !lit.to_string().starts_with("0o") {
            self.cx.push(
                Diagnostic::new(lit.span(), format!("mode `{lit}` is not written in octal"))
                    .help(format!("write permission bits in octal, e.g. `0o{}`", lit.base10_digits())),
            );
            return None;
        }
        match rules::file_mode(mode) {
            Ok(()) => Some(mode),
            Err(rule) => {
                self.cx.push(Diagnostic::rule(lit.span(), &rule));
                None
            }
        }
    }

    /// A secret option: `env("VAR")`, `file("path")` or `{expr}`, never a literal.
    pub(super) fn secret(&mut self, o: &Opts, name: &str, required: bool, stmt_span: Span) -> Option<SecretSrc> {
        let Some(opt) = o.0.get(name) else {
            if required {
                self.cx.push(
                    Diagnostic::new(stmt_span, format!("missing `{name}`"))
                        .help(format!("add `{name} = env(\"VAR\")` to the options")),
                );
            }
            return None;
        };
        match &opt.value {
            Some(OptValue::Secret(SecretValue::Env(_, var))) => {
                self.str(var);
                self.lit_rule(var, rules::env_key);
                Some(SecretSrc::Env(var.clone()))
            }
            Some(OptValue::Secret(SecretValue::File(_, path))) => {
                self.str(path);
                self.lit_rule(path, |v| rules::path("secret file", v));
                Some(SecretSrc::File(path.clone()))
            }
            Some(OptValue::Str(Str::Expr(tokens, span))) => {
                self.str(&Str::Expr(tokens.clone(), *span));
                Some(SecretSrc::Expr(tokens.clone(), *span))
            }
            Some(OptValue::Str(Str::Lit(lit))) => {
                self.cx.push(Diagnostic::rule(lit.span(), &Rule::SecretLiteral));
                None
            }
            Some(v) => {
                self.cx.push(
                    Diagnostic::new(v.span(), format!("`{name}` is a secret"))
                        .help(Rule::SecretLiteral.help().unwrap_or_default()),
                );
                None
            }
            None => {
                self.cx.push(
                    Diagnostic::new(opt.name.span(), format!("`{name}` needs a value"))
                        .help(format!("write `{name} = env(\"VAR\")`")),
                );
                None
            }
        }
    }

    /// A string option that must be written and not be empty (a registry's `region`).
    pub(super) fn required_str(&mut self, o: &Opts, name: &'static str, stmt_span: Span) -> Option<Str> {
        if !o.0.contains_key(name) {
            self.cx.push(
                Diagnostic::new(stmt_span, format!("missing `{name}`"))
                    .help(format!("add `{name} = \"...\"` to the options")),
            );
            return None;
        }
        let s = self.opt_str(o, name)?;
        self.lit_rule(&s, |v| if v.is_empty() { Err(Rule::EmptyCredential(name)) } else { Ok(()) });
        Some(s)
    }
}
