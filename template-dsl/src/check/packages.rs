//! The package manager against the base: `apt install` and a `run` of a package manager need the
//! one the base's distro has ([`rules::package_manager_fits`], the same rule as
//! `Template::validate`), and `pip|npm|bun install` a base that has the tool, unless a command
//! before it could have installed it ([`rules::tool_in_base`]). Known for `from DISTRO` and for `from image|registry` with a literal
//! reference whose repository is one of the distros; any other base is not checked.

use sandbox_template_runtime::rules::{self, Rule};

use super::Checker;
use crate::ast::Str;
use crate::diag::Diagnostic;
use crate::model::{BaseOp, Op, OpKind};

impl Checker<'_> {
    /// Checks every `apt install` and `run` (a `from dockerfile`'s too) against the base.
    pub(super) fn base_packages(&mut self, ops: &[Op]) {
        let mut image: Option<String> = None;
        // Whether a command ran that could have installed `pip`, `npm` or `bun` (as `validate`).
        let mut installed = false;
        for op in ops {
            let tool = match &op.kind {
                OpKind::Pip { .. } => Some("pip"),
                OpKind::Npm { .. } => Some("npm"),
                OpKind::Bun { .. } => Some("bun"),
                _ => None,
            };
            if let (Some(tool), Some(image), false) = (tool, &image, installed) {
                self.cx.rule(op.span, rules::tool_in_base(tool, image.as_str()));
            }
            installed |= tool.is_some() || matches!(op.kind, OpKind::Run { .. } | OpKind::Apt { .. });
            match &op.kind {
                OpKind::Base(BaseOp::Distro(distro, version)) => {
                    image = match version {
                        None => Some(distro.reference(None::<&str>)),
                        Some(v) => v.value().map(|v| distro.reference(v)),
                    }
                }
                OpKind::Base(BaseOp::Image(reference, ..)) => image = reference.value(),
                OpKind::Apt { packages, .. } => {
                    if let Some(image) = &image
                        && let Err(rule @ Rule::WrongPackageManager { has, .. }) =
                            rules::package_manager_fits("apt install", image)
                    {
                        let names: Vec<String> = packages.iter().filter_map(Str::value).collect();
                        let names = if names.len() == packages.len() && !names.is_empty() {
                            names.join(" ")
                        } else {
                            "PACKAGE".to_owned()
                        };
                        let install = rules::install_command(has);
                        self.cx.push(Diagnostic::new(op.span, rule.compile_message()).help(format!(
                            "write `run \"{install}{names}\" (user = \"root\");` instead, or start from a base \
                             that has `apt-get`, e.g. `from debian;`"
                        )));
                    }
                }
                OpKind::Run { commands, .. } => {
                    let Some(image) = &image else { continue };
                    for cmd in commands {
                        if let (Str::Lit(lit), Some(text)) = (cmd, cmd.value())
                            && let Err(rule) = rules::package_manager_fits(&text, image)
                        {
                            self.cx.push(Diagnostic::new(lit.span(), rule.compile_message()).help(run_help(&rule)));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// What to write instead of a `run` of the wrong package manager, in the DSL's words.
fn run_help(rule: &Rule) -> String {
    match rule {
        Rule::WrongPackageManager { needs, has, .. } => format!(
            "install with the base's `{has}`: `run \"{}PACKAGE\" (user = \"root\");`, or start from a base that \
             has `{needs}`",
            rules::install_command(has)
        ),
        other => other.help().unwrap_or_default(),
    }
}
