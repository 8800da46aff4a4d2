//! `from dockerfile "path" (arg NAME = "value", ...)`: the Dockerfile is read and converted while
//! the crate compiles; its steps become the template's.

use std::path::Path;

use proc_macro2::Span;
use sandbox_template_runtime::rules;
use sandbox_template_runtime::{ReadyCmd, StepKind};
use syn::LitStr;

use super::base::FromResult;
use super::{Checker, CopySource};
use crate::ast::{FromStmt, Opt, OptValue, Options, Str};
use crate::diag::{Diagnostic, rustc_case, unknown_help};
use crate::dockerfile::{self, Converted, DockerfileError, DockerfileOptions};
use crate::model::{BaseOp, Op, OpKind, ReadyOp};

/// One `arg NAME = "value"`, with where its name is written.
struct BuildArg {
    name: String,
    span: Span,
    value: String,
}

impl Checker<'_> {
    pub(super) fn dockerfile_base(&mut self, s: &FromStmt) -> Option<FromResult> {
        let path = self.need_arg(s, "a path", "\"Dockerfile\"")?;
        let Str::Lit(lit) = path else {
            self.cx.push(
                Diagnostic::new(path.span(), "the Dockerfile is read at compile time")
                    .help("write its path as a string literal"),
            );
            return None;
        };
        if !self.lit_rule(&Str::Lit(lit.clone()), |p| rules::path("Dockerfile path", p)) {
            return None;
        }
        let args = self.dockerfile_args(&s.options);
        let converted = self.read_dockerfile(&lit, &args)?;
        Some(FromResult::Dockerfile(lit, converted))
    }

    /// The `(arg NAME = "value", ...)` of `from dockerfile`: names and values, each name spanned.
    /// Values must be literals: the Dockerfile is converted while the crate compiles, so a value
    /// known only at run time could not change the steps the macro writes. The well-formed ones
    /// are returned even when others are not, so the Dockerfile is still checked with them.
    fn dockerfile_args(&mut self, options: &Options) -> Vec<BuildArg> {
        let mut args: Vec<BuildArg> = Vec::new();
        for opt in &options.items {
            let Some(arg) = self.build_arg(opt) else { continue };
            if args.iter().any(|a| a.name == arg.name) {
                self.cx.push(
                    Diagnostic::new(arg.span, format!("build arg `{}` given twice", arg.name))
                        .help("write each `arg` once"),
                );
                continue;
            }
            args.push(arg);
        }
        args
    }

    /// One option of `from dockerfile`, which must be a well-formed `arg NAME = "value"`.
    fn build_arg(&mut self, opt: &Opt) -> Option<BuildArg> {
        let name = opt.name.to_string();
        if name != "arg" {
            self.cx.push(
                Diagnostic::new(opt.name.span(), format!("unknown option `{name}` for `from dockerfile`"))
                    .help(unknown_help(&name, "options of `from dockerfile`", &["arg"])),
            );
            return None;
        }
        let Some(key) = &opt.key else {
            self.cx.push(
                Diagnostic::new(opt.name.span(), "`arg` needs the build arg's name")
                    .help("write `arg NAME = \"value\"`, e.g. `arg VERSION = \"3.12\"`"),
            );
            return None;
        };
        let (name, span) = (key.name(), key.span());
        if name.is_empty() {
            self.cx.push(
                Diagnostic::new(span, "empty build arg name")
                    .help("write the name an `ARG` of the Dockerfile declares"),
            );
            return None;
        }
        let value = self.build_arg_value(opt, &name, span)?;
        Some(BuildArg { name, span, value })
    }

    fn build_arg_value(&mut self, opt: &Opt, name: &str, name_span: Span) -> Option<String> {
        match &opt.value {
            Some(OptValue::Str(Str::Lit(v))) => Some(v.value()),
            Some(OptValue::Str(e @ Str::Expr(..))) if !self.env.allow_exprs => {
                // The .tmpl rule says it: no Rust code there.
                self.str(e);
                None
            }
            Some(OptValue::Str(Str::Expr(_, span))) => {
                self.cx.push(Diagnostic::new(*span, "a build arg of `from dockerfile` must be a string literal").help(
                    format!(
                        "the Dockerfile is converted while the crate compiles, so the value must be known then; \
                         for a value chosen at run time, convert there: \
                         `Template::new().from_dockerfile_with(include_str!(\"Dockerfile\"), \
                         &DockerfileOptions::new().build_arg(\"{name}\", value))`"
                    ),
                ));
                None
            }
            Some(v) => {
                self.cx.push(
                    Diagnostic::new(v.span(), format!("build arg `{name}` takes a string"))
                        .help(format!("write `arg {name} = \"...\"`")),
                );
                None
            }
            None => {
                self.cx.push(
                    Diagnostic::new(name_span, format!("build arg `{name}` needs a value"))
                        .help(format!("write `arg {name} = \"...\"`")),
                );
                None
            }
        }
    }

    fn read_dockerfile(&mut self, lit: &LitStr, args: &[BuildArg]) -> Option<Converted> {
        let Some(path) = self.resolve(self.env.base_dir.as_deref(), &lit.value()) else {
            self.cx.push(
                Diagnostic::new(lit.span(), "cannot tell which folder the Dockerfile path is relative to")
                    .help("write an absolute path"),
            );
            return None;
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.cx.push(
                    Diagnostic::new(lit.span(), format!("cannot read Dockerfile `{}`: {e}", path.display()))
                        .help("the path is relative to this source file's folder"),
                );
                return None;
            }
        };
        let result = self.convert(lit, &text, args);
        self.converted(lit, &path, &text, result)
    }

    /// Converts `text` with the build args the Dockerfile declares, reporting the others.
    fn convert(&mut self, lit: &LitStr, text: &str, args: &[BuildArg]) -> Result<Converted, DockerfileError> {
        let options = DockerfileOptions::new().build_args(args.iter().map(|a| (&a.name, &a.value)));
        let result = dockerfile::convert(text, &options);
        let Ok(c) = &result else { return result };
        // Strictly what the Dockerfile declares: a misspelt name would otherwise be a build
        // arg that silently changes nothing (Docker only warns).
        let undeclared: Vec<&BuildArg> = args.iter().filter(|a| !c.declared_args.contains(&a.name)).collect();
        if undeclared.is_empty() {
            return result;
        }
        let declared = if c.declared_args.is_empty() {
            "the Dockerfile declares no ARG".to_owned()
        } else {
            let names: Vec<String> = c.declared_args.iter().map(|n| format!("`{n}`")).collect();
            format!("the Dockerfile declares {}", names.join(", "))
        };
        for arg in &undeclared {
            let name = &arg.name;
            let d = Diagnostic::new(
                arg.span,
                format!("build arg `{name}` is not declared by an `ARG` of `{}`", lit.value()),
            );
            let d = match sandbox_template_runtime::__private::did_you_mean(
                name,
                c.declared_args.iter().map(String::as_str),
            ) {
                Some(best) => d.help(format!("did you mean `{best}`? ({declared})")),
                None => d.help(format!("{declared}; add `ARG {name}` to the Dockerfile or remove this `arg`")),
            };
            self.cx.push(d);
        }
        // Convert again without them, so that the Dockerfile's own problems are still
        // reported without the runtime's "unused build arg" warnings.
        let declared_only = DockerfileOptions::new()
            .build_args(args.iter().filter(|a| c.declared_args.contains(&a.name)).map(|a| (&a.name, &a.value)));
        dockerfile::convert(text, &declared_only)
    }

    /// The conversion's outcome: its errors, and its warnings as errors.
    fn converted(
        &mut self,
        lit: &LitStr,
        path: &Path,
        text: &str,
        result: Result<Converted, DockerfileError>,
    ) -> Option<Converted> {
        match result {
            // What the runtime import skips with a warning is an error here: the template would
            // silently differ from the Dockerfile.
            Ok(c) if !c.warnings.is_empty() => {
                for w in &c.warnings {
                    let line = text.lines().nth(w.line.wrapping_sub(1)).unwrap_or("");
                    self.cx.push(
                        Diagnostic::new(
                            lit.span(),
                            format!("{}:{}:{}: {}\n  {:>4} | {line}", path.display(), w.line, w.column, rustc_case(&w.message), w.line),
                        )
                        .help("remove the instruction from the Dockerfile, or write the template with `template!` statements"),
                    );
                }
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                let mut message = if e.line == 0 {
                    format!("{}: {}", path.display(), rustc_case(&e.message))
                } else {
                    format!("{}:{}:{}: {}", path.display(), e.line, e.column, rustc_case(&e.message))
                };
                if let Some(line) = text.lines().nth(e.line.wrapping_sub(1)) {
                    message.push_str(&format!("\n  {:>4} | {line}", e.line));
                }
                let mut d = Diagnostic::new(lit.span(), message);
                d.help = e.help;
                self.cx.push(d);
                None
            }
        }
    }

    /// Turns a converted Dockerfile into operations, with its values as synthetic literals.
    pub(super) fn dockerfile_ops(
        &mut self,
        lit: &LitStr,
        c: Converted,
        span: Span,
        ops: &mut Vec<Op>,
        copies: &mut Vec<CopySource>,
    ) {
        let s = |v: &str| Str::Lit(LitStr::new(v, lit.span()));
        let image = s(&c.base_image);
        self.image(&image);
        ops.push(Op { span, kind: OpKind::Base(BaseOp::Image(image, None, true)) });
        for step in &c.steps {
            if let StepKind::Copy(cp) = &step.kind {
                copies.push(CopySource {
                    src: s(&cp.src),
                    resolve_symlinks: cp.resolve_symlinks == Some(true),
                    origin: Some(format!("{}:{}", lit.value(), step.line)),
                });
            }
            if let StepKind::Env { vars, literal } = &step.kind {
                for (k, v) in vars {
                    if let Err(rule) = rules::env_value(self.provider(), *literal, k, v) {
                        self.cx.push(
                            Diagnostic::new(
                                lit.span(),
                                format!("{}:{}: {}", lit.value(), step.line, rule.compile_message()),
                            )
                            .help(
                                "write the full value in the Dockerfile, or, for a Novita template (which \
                                 expands it), write `provider novita;` before `from`",
                            ),
                        );
                    }
                }
            }
            match step_op(&step.kind, &s) {
                Some(kind) => ops.push(Op { span, kind }),
                None => self.cx.push(
                    Diagnostic::new(
                        lit.span(),
                        format!("{}:{}: this instruction has no template step to become", lit.value(), step.line),
                    )
                    .help("write the template with `template!` statements"),
                ),
            }
        }
        let ready = c.ready_cmd.map(|r| ready_op(r, &s));
        match (c.start_cmd, ready) {
            (Some(cmd), ready) => {
                let ready = ready.unwrap_or(ReadyOp::Timeout(20_000));
                ops.push(Op { span, kind: OpKind::Start { command: s(&cmd), ready } })
            }
            (None, Some(ready)) => ops.push(Op { span, kind: OpKind::Ready(ready) }),
            (None, None) => {}
        }
    }
}

/// The operation for one converted step, or `None` for a kind a Dockerfile conversion never
/// makes (the checker reports it rather than dropping it).
fn step_op(kind: &StepKind, s: &impl Fn(&str) -> Str) -> Option<OpKind> {
    let so = |v: &Option<String>| v.as_deref().map(s);
    Some(match kind {
        StepKind::Run { commands, user } => {
            OpKind::Run { commands: commands.iter().map(|c| s(c)).collect(), user: so(user) }
        }
        StepKind::Copy(cp) => OpKind::Copy {
            sources: vec![s(&cp.src)],
            dest: s(&cp.dest),
            user: so(&cp.user),
            mode: cp.mode,
            force_upload: cp.force_upload,
            resolve_symlinks: cp.resolve_symlinks,
            gzip: cp.gzip,
        },
        StepKind::Env { vars, literal } => {
            OpKind::Env { vars: vars.iter().map(|(k, v)| (k.clone(), s(v))).collect(), literal: *literal }
        }
        StepKind::Workdir(p) => OpKind::Workdir(s(p)),
        StepKind::User(u) => OpKind::User(s(u)),
        _ => return None,
    })
}

fn ready_op(r: ReadyCmd, s: &impl Fn(&str) -> Str) -> ReadyOp {
    match r {
        ReadyCmd::Port(p) => ReadyOp::Port(p),
        ReadyCmd::Url { url, status } => ReadyOp::Url(s(&url), Some(status)),
        ReadyCmd::Process(p) => ReadyOp::Process(s(&p)),
        ReadyCmd::File(f) => ReadyOp::File(s(&f)),
        ReadyCmd::Timeout(d) => ReadyOp::Timeout(d.as_millis() as u64),
        ReadyCmd::Command(cmd) => ReadyOp::Command(s(&cmd)),
    }
}
