//! The checker: turns parsed statements into a [`Checked`] template, running the runtime's rules
//! (`sandbox_template_runtime::rules`, the single source of truth) and the compile-time checks of
//! `docs/dsl.md` on every value known now. Every problem is collected in the [`Diagnostics`], spanned at the
//! offending token, with what to write instead.
//!
//! This file walks the statements and checks the steps; the rest is one file per concern:
//! `options` (statement options, numbers, secrets), `base` (`from`, and the statements that need
//! a particular template as the base: `mcp server`, `devcontainer`), `dockerfile`
//! (`from dockerfile`), `ready` (`start` and `ready`), `files` (the context folder, `copy`
//! sources, rebuild tracking and `embed`), `user` (the user each `run` runs as), `packages` (the
//! package manager against the base).

mod base;
mod dockerfile;
mod files;
mod options;
mod packages;
mod ready;
mod user;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use proc_macro2::Span;
use sandbox_template_runtime::Provider;
use sandbox_template_runtime::rules::{self, Rule};
use syn::LitStr;

use crate::ast::{
    Body, CopyStmt, DevContainerStmt, EnvStmt, GitStmt, InstallStmt, McpStmt, MoveStmt, PathsStmt, ProviderStmt,
    RunStmt, Stmt, Str, ValueStmt,
};
use crate::diag::{Diagnostic, Diagnostics, unknown_help};
use crate::model::{Checked, Op, OpKind};

/// Where the template text comes from, which decides what is allowed and how paths resolve.
#[derive(Clone, Debug)]
pub struct Env {
    /// The folder relative paths resolve against: the invoking source file's folder (macro), the
    /// `.tmpl` file's folder. `None`: unknown, file checks are skipped.
    pub base_dir: Option<PathBuf>,
    /// Whether `{expr}` is allowed (Rust code: yes; `.tmpl` files: no).
    pub allow_exprs: bool,
    /// Whether COPY sources are enumerated now, so that one matching nothing is reported at its
    /// span. `false` leaves that to whoever reads the context next: the CLI hashes or uploads
    /// every source right after loading, which finds the same problems, so each tree is walked
    /// once instead of twice.
    pub check_copy_sources: bool,
}

/// Checks `body`. Returns the checked template; it may be lowered only if `cx` stayed empty.
pub fn check(body: &Body, env: &Env, site: Span, cx: &mut Diagnostics) -> Checked {
    let mut c = Checker {
        cx,
        env,
        site,
        seen_base: None,
        step_before_base: None,
        finish: None,
        ends: None,
        step_after_end: false,
        patch: None,
        provider: None,
    };
    c.run(body)
}

struct Checker<'a> {
    cx: &'a mut Diagnostics,
    env: &'a Env,
    /// Where problems of the template as a whole ("no base") are reported: the macro call, or the
    /// static's name in the item form.
    site: Span,
    seen_base: Option<Span>,
    /// The first step written before `from` (reported only if a base follows: without any
    /// base, "no base" says it better).
    step_before_base: Option<Span>,
    finish: Option<Span>,
    /// Where `patch` was written.
    patch: Option<Span>,
    /// The keyword of the first `start` or `ready`, which end the template.
    ends: Option<String>,
    /// Whether a step after them was reported (once is enough: they all are).
    step_after_end: bool,
    /// `provider NAME;` and where it was written.
    provider: Option<(Provider, Span)>,
}

/// A `copy` source, kept for the context checks once every statement is read.
struct CopySource {
    src: Str,
    resolve_symlinks: bool,
    /// For a Dockerfile's `COPY`: `Dockerfile:LINE`, which its messages start with.
    origin: Option<String>,
}

/// What the statements leave for the checks that need all of them.
#[derive(Default)]
struct Collected<'b> {
    context: Option<&'b Str>,
    ignore: Vec<Str>,
    embed: Option<Span>,
    ops: Vec<Op>,
    copies: Vec<CopySource>,
    /// The Dockerfiles of `from dockerfile` (tracked for rebuilds).
    dockerfiles: Vec<LitStr>,
    /// Whether the `from` statement had problems (then "no base" would be noise).
    base_failed: bool,
}

impl Checker<'_> {
    fn run(&mut self, body: &Body) -> Checked {
        let mut c = Collected::default();
        for stmt in &body.stmts {
            self.placement(stmt);
            self.stmt(stmt, &mut c);
        }
        if let (Some(step), Some(_)) = (self.step_before_base, self.seen_base) {
            self.cx.push(
                Diagnostic::new(step, "a step before the base")
                    .help("start the template with its base, e.g. `from python \"3.12\";`, before any step"),
            );
        }
        if self.seen_base.is_none() && !body.had_parse_errors && !c.base_failed {
            self.cx.push(
                Diagnostic::new(self.site, "the template has no base")
                    .help("start with `from python \"3.12\";`, `from image \"ubuntu:24.04\";` or `from base;`"),
            );
        }
        self.run_users(&c.ops);
        self.base_packages(&c.ops);
        self.template_base_steps(&c.ops);
        self.finish(c)
    }

    /// Header statements come before `from`, steps after it.
    fn placement(&mut self, stmt: &Stmt) {
        let kw = stmt.kw();
        match stmt {
            Stmt::Context(_) | Stmt::Ignore(_) | Stmt::Embed(_) | Stmt::Provider(_) => {
                if self.seen_base.is_some() {
                    self.cx.push(
                        Diagnostic::new(kw.span(), format!("`{kw}` after `from`"))
                            .help(format!("move `{kw} ...;` before `from`: it is a header statement")),
                    );
                }
            }
            Stmt::From(_) | Stmt::SkipCache(_) => {}
            Stmt::Start(_) | Stmt::Ready(_) => {
                self.require_base(kw.span());
                self.ends.get_or_insert_with(|| kw.to_string());
            }
            // `devcontainer start` is the template's start command (`beta_set_dev_container_start`
            // returns a `TemplateFinal`, as `set_start_cmd` does).
            Stmt::DevContainer(d) if d.action == "start" => {
                self.require_base(kw.span());
                self.ends.get_or_insert_with(|| "devcontainer start".to_owned());
            }
            _ => {
                self.require_base(kw.span());
                self.step_after_end(kw);
            }
        }
    }

    /// `start` and `ready` end a template, as in the SDKs (where `set_start_cmd` and
    /// `set_ready_cmd` return a `TemplateFinal` that has no step methods): the start command runs
    /// once every step has run, wherever it is written, so a step written after it would not run
    /// before it as it reads.
    fn step_after_end(&mut self, kw: &syn::Ident) {
        if let Some(end) = &self.ends
            && !self.step_after_end
        {
            self.step_after_end = true;
            self.cx.push(Diagnostic::new(kw.span(), format!("a step after `{end}`")).help(format!(
                "`{end}` ends the template (the sandbox starts once every step has run): move this `{kw}` before `{end}`"
            )));
        }
    }

    fn stmt<'b>(&mut self, stmt: &'b Stmt, c: &mut Collected<'b>) {
        let span = stmt.kw().span();
        let kind = match stmt {
            Stmt::Context(s) => return self.context_stmt(s, c),
            Stmt::Ignore(s) => return self.ignore_stmt(s, c),
            Stmt::Embed(kw) => return self.embed_stmt(kw, c),
            Stmt::Provider(s) => return self.provider_stmt(s),
            Stmt::From(s) => return self.base_stmt(s, c),
            Stmt::SkipCache(_) => Some(OpKind::SkipCache),
            Stmt::Run(s) => Some(self.run_stmt(s)),
            Stmt::Copy(s) => Some(self.copy_stmt(s, &mut c.copies)),
            Stmt::Env(s) => Some(self.env_stmt(s)),
            Stmt::Workdir(s) => {
                self.str(&s.value);
                self.lit_rule(&s.value, |p| rules::path("workdir", p));
                Some(OpKind::Workdir(s.value.clone()))
            }
            Stmt::User(s) => {
                self.str(&s.value);
                self.lit_rule(&s.value, rules::user);
                Some(OpKind::User(s.value.clone()))
            }
            Stmt::Install(s) => Some(self.install_stmt(s, span)),
            Stmt::Git(s) => Some(self.git_stmt(s)),
            Stmt::Mkdir(s) => Some(self.mkdir_stmt(s)),
            Stmt::Remove(s) => Some(self.remove_stmt(s)),
            Stmt::Rename(s) | Stmt::Symlink(s) => Some(self.move_stmt(s)),
            Stmt::Mcp(s) => Some(self.mcp_stmt(s)),
            Stmt::DevContainer(s) => self.dev_container_stmt(s, span),
            Stmt::Patch(s) => self.patch_stmt(s),
            Stmt::Start(s) => self.start_stmt(s, span),
            Stmt::Ready(s) => self.ready_stmt(s, span),
        };
        if let Some(kind) = kind {
            c.ops.push(Op { span, kind });
        }
    }

    fn run_stmt(&mut self, s: &RunStmt) -> OpKind {
        let o = self.options("run", &s.options, &["user"]);
        for cmd in &s.commands {
            self.str(cmd);
            self.lit_rule(cmd, rules::command);
        }
        let user = self.opt_user(&o);
        OpKind::Run { commands: s.commands.clone(), user }
    }

    fn copy_stmt(&mut self, s: &CopyStmt, copies: &mut Vec<CopySource>) -> OpKind {
        let o = self.options("copy", &s.options, &["user", "mode", "force_upload", "resolve_symlinks", "gzip"]);
        let resolve_symlinks = self.opt_flag(&o, "resolve_symlinks");
        let gzip = self.opt_flag(&o, "gzip");
        if let Some(at) = o.name_span("gzip") {
            self.cx.rule(at, rules::copy_gzip(self.provider(), gzip));
        }
        for src in &s.sources {
            self.str(src);
            if self.lit_rule(src, rules::copy_source) {
                copies.push(CopySource {
                    src: src.clone(),
                    resolve_symlinks: resolve_symlinks == Some(true),
                    origin: None,
                });
            }
        }
        self.str(&s.dest);
        self.lit_rule(&s.dest, |d| rules::path("copy destination", d));
        OpKind::Copy {
            sources: s.sources.clone(),
            dest: s.dest.clone(),
            user: self.opt_user(&o),
            mode: self.opt_mode(&o),
            force_upload: self.opt_flag(&o, "force_upload"),
            resolve_symlinks,
            gzip,
        }
    }

    fn env_stmt(&mut self, s: &EnvStmt) -> OpKind {
        let o = self.options("env", &s.options, &["literal"]);
        // A malformed `literal = ...` is reported as such; the values are not checked as well.
        let literal = o.has("literal") && self.opt_flag(&o, "literal").unwrap_or(true);
        let provider = self.provider();
        let mut seen = HashSet::new();
        let mut vars = Vec::new();
        for (key, value) in &s.vars {
            let name = key.name();
            match rules::env_key(&name) {
                Err(rule) => self.cx.push(Diagnostic::rule(key.span(), &rule)),
                Ok(()) if !seen.insert(name.clone()) => {
                    self.cx.push(Diagnostic::rule(key.span(), &Rule::DuplicateEnvKey(name.clone())))
                }
                Ok(()) => {}
            }
            self.str(value);
            if let Some(v) = value.value()
                && let Err(rule) = rules::env_value(provider, literal, &name, &v)
            {
                let example = match &rule {
                    Rule::EnvReference { reference, .. } => rules::env_fix_example(&name, &v, reference),
                    _ => String::new(),
                };
                self.cx.push(Diagnostic::new(value.span(), rule.compile_message()).help(format!(
                    "write the full value{example}, or add `(literal)` to keep the text; Novita expands it \
                     (`provider novita;` before `from`)"
                )));
            }
            vars.push((name, value.clone()));
        }
        OpKind::Env { vars, literal }
    }

    /// The provider the template is checked for: `provider NAME;`, else E2B.
    fn provider(&self) -> Provider {
        self.provider.map_or(Provider::E2b, |(p, _)| p)
    }

    fn provider_stmt(&mut self, s: &ProviderStmt) {
        let name = s.name.to_string();
        let Ok(provider) = name.parse::<Provider>() else {
            let names = ["e2b", "novita"];
            self.cx.push(Diagnostic::new(s.name.span(), format!("unknown provider `{name}`")).help(unknown_help(
                &name,
                "providers",
                &names,
            )));
            return;
        };
        if self.provider.is_some() {
            self.cx.push(
                Diagnostic::new(s.kw.span(), "a second `provider`").help("name the provider once, before `from`"),
            );
            return;
        }
        self.provider = Some((provider, s.kw.span()));
    }

    fn install_stmt(&mut self, s: &InstallStmt, span: Span) -> OpKind {
        let manager = s.kw.to_string();
        let allowed: &[&str] = match manager.as_str() {
            "pip" => &["global"],
            "apt" => &["no_install_recommends", "fix_missing"],
            _ => &["global", "dev"],
        };
        let o = self.options(&format!("{manager} install"), &s.options, allowed);
        for p in &s.packages {
            self.str(p);
            self.lit_rule(p, rules::package_name);
        }
        let packages = s.packages.clone();
        match manager.as_str() {
            "pip" => OpKind::Pip { packages, global: self.opt_flag(&o, "global") },
            "npm" | "bun" => {
                let global = self.opt_flag(&o, "global").unwrap_or(false);
                let dev = self.opt_flag(&o, "dev").unwrap_or(false);
                if manager == "npm" {
                    OpKind::Npm { packages, global, dev }
                } else {
                    OpKind::Bun { packages, global, dev }
                }
            }
            _ => {
                if packages.is_empty() {
                    self.cx.push(Diagnostic::rule(span, &Rule::NoPackages));
                }
                OpKind::Apt {
                    packages,
                    no_install_recommends: self.opt_flag(&o, "no_install_recommends").unwrap_or(false),
                    fix_missing: self.opt_flag(&o, "fix_missing").unwrap_or(false),
                }
            }
        }
    }

    fn git_stmt(&mut self, s: &GitStmt) -> OpKind {
        let o = self.options("git clone", &s.options, &["branch", "depth", "user"]);
        self.str(&s.url);
        self.lit_rule(&s.url, |u| if u.trim().is_empty() { Err(Rule::EmptyUrl) } else { Ok(()) });
        if let Some(d) = &s.dest {
            self.str(d);
            self.lit_rule(d, |p| rules::path("clone destination", p));
        }
        let branch = self.opt_str(&o, "branch");
        if let Some(b) = &branch {
            self.lit_rule(b, |v| rules::path("branch", v));
        }
        let depth = self.opt_int(&o, "depth").map(|(v, lit)| {
            if v == 0 {
                self.cx.push(Diagnostic::rule(lit.span(), &Rule::InvalidDepth));
            }
            v
        });
        OpKind::Git { url: s.url.clone(), dest: s.dest.clone(), branch, depth, user: self.opt_user(&o) }
    }

    fn mkdir_stmt(&mut self, s: &PathsStmt) -> OpKind {
        let o = self.options("mkdir", &s.options, &["mode", "user"]);
        self.paths(&s.paths, "folder");
        OpKind::Mkdir { paths: s.paths.clone(), mode: self.opt_mode(&o), user: self.opt_user(&o) }
    }

    fn remove_stmt(&mut self, s: &PathsStmt) -> OpKind {
        let o = self.options("remove", &s.options, &["recursive", "force", "user"]);
        for path in &s.paths {
            self.str(path);
            self.lit_rule(path, rules::removable);
        }
        OpKind::Remove {
            paths: s.paths.clone(),
            recursive: self.opt_flag(&o, "recursive").unwrap_or(false),
            force: self.opt_flag(&o, "force").unwrap_or(false),
            user: self.opt_user(&o),
        }
    }

    /// `rename` and `symlink`.
    fn move_stmt(&mut self, s: &MoveStmt) -> OpKind {
        let name = s.kw.to_string();
        let o = self.options(&name, &s.options, &["force", "user"]);
        self.str(&s.src);
        self.lit_rule(&s.src, |p| rules::path("source path", p));
        self.str(&s.dest);
        self.lit_rule(&s.dest, |p| rules::path("destination path", p));
        let (src, dest) = (s.src.clone(), s.dest.clone());
        let force = self.opt_flag(&o, "force").unwrap_or(false);
        let user = self.opt_user(&o);
        if name == "rename" {
            OpKind::Rename { src, dest, force, user }
        } else {
            OpKind::Symlink { src, dest, force, user }
        }
    }

    /// `mcp server "exa", "brave";`: the names as package names (the SDKs pass them to
    /// `mcp-gateway pull` unquoted) and as names the provider's SDK lists, at each literal (a
    /// `{expr}` is left to `Template::validate`); the base is checked once every statement is read.
    fn mcp_stmt(&mut self, s: &McpStmt) -> OpKind {
        let provider = self.provider();
        for name in &s.names {
            self.str(name);
            self.lit_rule(name, |n| rules::package_name(n).and_then(|()| rules::mcp_server_name(provider, n)));
        }
        OpKind::McpServers(s.names.clone())
    }

    /// `devcontainer prebuild|start "/folder";` (`start` is the template's start command and
    /// ready check, like `start`).
    fn dev_container_stmt(&mut self, s: &DevContainerStmt, span: Span) -> Option<OpKind> {
        self.str(&s.dir);
        self.lit_rule(&s.dir, |d| rules::path("dev container folder", d));
        if s.action == "start" {
            self.second_finish(span);
            Some(OpKind::DevContainerStart(s.dir.clone()))
        } else {
            Some(OpKind::DevContainerPrebuild(s.dir.clone()))
        }
    }

    /// `patch "script";`: Novita's pre-boot script, once per template.
    fn patch_stmt(&mut self, s: &ValueStmt) -> Option<OpKind> {
        if self.patch.replace(s.kw.span()).is_some() {
            self.cx.push(
                Diagnostic::new(s.kw.span(), "a second `patch`")
                    .help("a template has one pre-boot script; put its commands in one `patch` and remove this one"),
            );
        }
        self.cx.rule(s.kw.span(), rules::patch_cmd(self.provider()));
        self.str(&s.value);
        self.lit_rule(&s.value, rules::command);
        Some(OpKind::PatchCmd(s.value.clone()))
    }

    /// Reports a `{expr}` where only literals are allowed (`.tmpl` files).
    fn str(&mut self, s: &Str) {
        if let Str::Expr(_, span) = s
            && !self.env.allow_exprs
        {
            self.cx.push(
                Diagnostic::new(*span, "`{...}` is Rust code, which a .tmpl file cannot run")
                    .help("write the value as a string literal, or write the template with `template!` in Rust"),
            );
        }
    }

    /// Runs `rule` on a literal; returns whether it passed (or is only known at run time).
    fn lit_rule(&mut self, s: &Str, rule: impl FnOnce(&str) -> Result<(), Rule>) -> bool {
        match s.value() {
            Some(v) => match rule(&v) {
                Ok(()) => true,
                Err(r) => {
                    self.cx.push(Diagnostic::rule(s.span(), &r));
                    false
                }
            },
            None => true,
        }
    }

    fn paths(&mut self, paths: &[Str], what: &'static str) {
        for p in paths {
            self.str(p);
            self.lit_rule(p, |v| rules::path(what, v));
        }
    }

    fn require_base(&mut self, span: Span) {
        if self.seen_base.is_none() && self.step_before_base.is_none() {
            self.step_before_base = Some(span);
        }
    }

    /// `rel` against `root`, unless it is absolute; `None` when there is no root to resolve against.
    fn resolve(&self, root: Option<&Path>, rel: &str) -> Option<PathBuf> {
        let p = Path::new(rel);
        if p.is_absolute() {
            return Some(p.to_owned());
        }
        root.map(|r| r.join(p))
    }
}
