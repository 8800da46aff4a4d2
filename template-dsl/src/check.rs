//! The checker: turns parsed statements into a [`Checked`] template, running the runtime's rules
//! (`sandbox_template_runtime::rules`, the single source of truth) and the compile-time checks of
//! DESIGN.md on every value known now. Every problem is collected in the [`Diagnostics`], spanned at the
//! offending token, with what to write instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proc_macro2::Span;
use sandbox_template_runtime::rules::{self, Rule};
use sandbox_template_runtime::{ReadyCmd, StepKind};
use syn::{LitInt, LitStr};

use crate::ast::{self, Body, OptValue, Options, Ready, SecretValue, Stmt, Str};
use crate::diag::{Diagnostic, Diagnostics, unknown_help};
use crate::dockerfile;
use crate::files::{self, FilesError};
use crate::model::{BaseOp, Checked, ContextDir, Op, OpKind, ReadyOp, SecretSrc};

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
pub fn check(body: &Body, env: &Env, cx: &mut Diagnostics) -> Checked {
    let mut c = Checker { cx, env, seen_base: None, step_before_base: None, finish: None };
    c.run(body)
}

struct Checker<'a> {
    cx: &'a mut Diagnostics,
    env: &'a Env,
    seen_base: Option<Span>,
    /// The first step written before `from` (reported only if a base follows: without any
    /// base, "no base" says it better).
    step_before_base: Option<Span>,
    finish: Option<Span>,
}

/// The options written on one statement, by name, after unknown and repeated ones are reported.
struct Opts<'o>(HashMap<String, &'o ast::Opt>);

impl Checker<'_> {
    fn run(&mut self, body: &Body) -> Checked {
        let mut context: Option<&Str> = None;
        let mut ignore: Vec<Str> = Vec::new();
        let mut embed: Option<Span> = None;
        let mut ops: Vec<Op> = Vec::new();
        // (source, resolve_symlinks, the Dockerfile line it comes from)
        let mut copies: Vec<(Str, bool, Option<String>)> = Vec::new();
        let mut dockerfiles: Vec<(LitStr, Span)> = Vec::new();
        let mut base_failed = false;

        for stmt in &body.stmts {
            let kw = stmt.kw().clone();
            let span = kw.span();
            match stmt {
                Stmt::Context(_) | Stmt::Ignore(_) | Stmt::Embed(_) => {
                    if self.seen_base.is_some() {
                        self.cx.push(
                            Diagnostic::new(span, format!("`{kw}` after `from`"))
                                .help(format!("move `{kw} ...;` before `from`: it is a header statement")),
                        );
                    }
                }
                Stmt::From(_) | Stmt::SkipCache(_) => {}
                _ => self.require_base(span),
            }
            match stmt {
                Stmt::Context(s) => {
                    if context.is_some() {
                        self.cx.push(Diagnostic::new(span, "a second `context`").help("name one context folder"));
                    }
                    self.str(&s.dir);
                    context = Some(&s.dir);
                }
                Stmt::Ignore(s) => {
                    for p in &s.patterns {
                        self.str(p);
                        if let Some(v) = p.value() {
                            if v.is_empty() {
                                self.cx.push(
                                    Diagnostic::new(p.span(), "empty ignore pattern")
                                        .help("write a pattern such as `**/*.log`"),
                                );
                            }
                        }
                    }
                    ignore.extend(s.patterns.iter().cloned());
                }
                Stmt::Embed(kw) => {
                    if embed.is_some() {
                        self.cx.push(Diagnostic::new(kw.span(), "a second `embed`").help("write `embed;` once"));
                    }
                    if !self.env.allow_exprs {
                        self.cx.push(
                            Diagnostic::new(kw.span(), "`embed` is only for `template!` in Rust code")
                                .help("remove `embed;`: a `.tmpl` file's context is its folder"),
                        );
                    }
                    embed = Some(kw.span());
                }
                Stmt::SkipCache(_) => ops.push(Op { span, kind: OpKind::SkipCache }),
                Stmt::From(s) => {
                    if let Some(first) = self.seen_base {
                        let _ = first;
                        self.cx.push(
                            Diagnostic::new(span, "a second base")
                                .help("a template has exactly one `from`; remove this one"),
                        );
                        continue;
                    }
                    self.seen_base = Some(span);
                    let errors = self.cx.len();
                    match self.from(s) {
                        Some(FromResult::Base(b)) => ops.push(Op { span, kind: OpKind::Base(b) }),
                        Some(FromResult::Dockerfile(lit, converted)) => {
                            dockerfiles.push((lit.clone(), span));
                            self.dockerfile_ops(&lit, converted, span, &mut ops, &mut copies);
                        }
                        None => {}
                    }
                    base_failed |= self.cx.len() > errors;
                }
                Stmt::Run(s) => {
                    let o = self.options("run", &s.options, &["user"]);
                    for cmd in &s.commands {
                        self.str(cmd);
                        self.lit_rule(cmd, rules::command);
                    }
                    let user = self.opt_user(&o);
                    ops.push(Op { span, kind: OpKind::Run { commands: s.commands.clone(), user } });
                }
                Stmt::Copy(s) => {
                    let o =
                        self.options("copy", &s.options, &["user", "mode", "force_upload", "resolve_symlinks", "gzip"]);
                    let resolve_symlinks = self.opt_flag(&o, "resolve_symlinks");
                    for src in &s.sources {
                        self.str(src);
                        if self.lit_rule(src, rules::copy_source) {
                            copies.push((src.clone(), resolve_symlinks == Some(true), None));
                        }
                    }
                    self.str(&s.dest);
                    self.lit_rule(&s.dest, |d| rules::path("copy destination", d));
                    let kind = OpKind::Copy {
                        sources: s.sources.clone(),
                        dest: s.dest.clone(),
                        user: self.opt_user(&o),
                        mode: self.opt_mode(&o),
                        force_upload: self.opt_flag(&o, "force_upload"),
                        resolve_symlinks,
                        gzip: self.opt_flag(&o, "gzip"),
                    };
                    ops.push(Op { span, kind });
                }
                Stmt::Env(s) => {
                    let mut seen = std::collections::HashSet::new();
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
                        vars.push((name, value.clone()));
                    }
                    ops.push(Op { span, kind: OpKind::Env(vars) });
                }
                Stmt::Workdir(s) => {
                    self.str(&s.value);
                    self.lit_rule(&s.value, |p| rules::path("workdir", p));
                    ops.push(Op { span, kind: OpKind::Workdir(s.value.clone()) });
                }
                Stmt::User(s) => {
                    self.str(&s.value);
                    self.lit_rule(&s.value, rules::user);
                    ops.push(Op { span, kind: OpKind::User(s.value.clone()) });
                }
                Stmt::Install(s) => {
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
                    let kind = match manager.as_str() {
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
                    };
                    ops.push(Op { span, kind });
                }
                Stmt::Git(s) => {
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
                    let kind = OpKind::Git {
                        url: s.url.clone(),
                        dest: s.dest.clone(),
                        branch,
                        depth,
                        user: self.opt_user(&o),
                    };
                    ops.push(Op { span, kind });
                }
                Stmt::Mkdir(s) => {
                    let o = self.options("mkdir", &s.options, &["mode", "user"]);
                    self.paths(&s.paths, "folder");
                    let kind =
                        OpKind::Mkdir { paths: s.paths.clone(), mode: self.opt_mode(&o), user: self.opt_user(&o) };
                    ops.push(Op { span, kind });
                }
                Stmt::Remove(s) => {
                    let o = self.options("remove", &s.options, &["recursive", "force", "user"]);
                    self.paths(&s.paths, "path to remove");
                    let kind = OpKind::Remove {
                        paths: s.paths.clone(),
                        recursive: self.opt_flag(&o, "recursive").unwrap_or(false),
                        force: self.opt_flag(&o, "force").unwrap_or(false),
                        user: self.opt_user(&o),
                    };
                    ops.push(Op { span, kind });
                }
                Stmt::Rename(s) | Stmt::Symlink(s) => {
                    let name = s.kw.to_string();
                    let o = self.options(&name, &s.options, &["force", "user"]);
                    self.str(&s.src);
                    self.lit_rule(&s.src, |p| rules::path("source path", p));
                    self.str(&s.dest);
                    self.lit_rule(&s.dest, |p| rules::path("destination path", p));
                    let (src, dest) = (s.src.clone(), s.dest.clone());
                    let force = self.opt_flag(&o, "force").unwrap_or(false);
                    let user = self.opt_user(&o);
                    let kind = if name == "rename" {
                        OpKind::Rename { src, dest, force, user }
                    } else {
                        OpKind::Symlink { src, dest, force, user }
                    };
                    ops.push(Op { span, kind });
                }
                Stmt::Start(s) => {
                    self.second_finish(span);
                    self.str(&s.command);
                    self.lit_rule(&s.command, rules::command);
                    if let Some(ready) = self.ready(&s.ready) {
                        ops.push(Op { span, kind: OpKind::Start { command: s.command.clone(), ready } });
                    }
                }
                Stmt::Ready(s) => {
                    self.second_finish(span);
                    if let Some(ready) = self.ready(&s.ready) {
                        ops.push(Op { span, kind: OpKind::Ready(ready) });
                    }
                }
            }
        }

        if let (Some(step), Some(_)) = (self.step_before_base, self.seen_base) {
            self.cx.push(
                Diagnostic::new(step, "a step before the base")
                    .help("start the template with its base, e.g. `from python \"3.12\";`, before any step"),
            );
        }
        if self.seen_base.is_none() && !body.had_parse_errors && !base_failed {
            self.cx.push(
                Diagnostic::new(Span::call_site(), "the template has no base")
                    .help("start with `from python \"3.12\";`, `from image \"ubuntu:24.04\";` or `from base;`"),
            );
        }

        let (context_dir, root) = self.context(context);
        let ignore_lits: Option<Vec<String>> = ignore.iter().map(Str::value).collect();
        let mut checked =
            Checked { context: context_dir, ignore, embed: None, tracked: Vec::new(), tracked_truncated: false, ops };
        for (lit, _) in &dockerfiles {
            if let Some(path) = self.resolve(self.env.base_dir.as_deref(), &lit.value()) {
                checked.tracked.push(path);
            }
        }
        // Reading the context (its `.dockerignore`, ignore rules) only when something needs it.
        let files = match (&root, ignore_lits) {
            (Some(root), Some(ignore)) if (self.env.check_copy_sources && !copies.is_empty()) || embed.is_some() => {
                files::Context::open(root, &ignore).ok() // errors: reported by `context()`
            }
            _ => None,
        };
        if let Some(files) = &files
            && self.env.check_copy_sources
        {
            for (src, resolve_symlinks, origin) in &copies {
                let Some(value) = src.value() else { continue };
                match files.entries(&value, *resolve_symlinks) {
                    Ok(entries) => {
                        for e in &entries {
                            if e.kind == files::EntryKind::File {
                                if checked.tracked.len() < files::TRACK_LIMIT {
                                    checked.tracked.push(e.abs.clone());
                                } else {
                                    checked.tracked_truncated = true;
                                }
                            }
                        }
                    }
                    Err(e) => self.files_error(src, origin.as_deref(), files.root(), e),
                }
            }
        }
        checked.tracked.sort();
        checked.tracked.dedup();
        if let Some(span) = embed {
            match &files {
                None => self
                    .cx
                    .push(Diagnostic::new(span, "`embed` needs a context folder known at compile time").help(
                    "write `context \"folder\";` with a string literal (not `{expr}`), and literal `ignore` patterns",
                )),
                Some(files) => {
                    let sources: Vec<(String, bool)> =
                        copies.iter().filter_map(|(s, r, _)| Some((s.value()?, *r))).collect();
                    match files::plan_embedding(files, &sources) {
                        Ok(entries) => checked.embed = Some(entries),
                        // Per-source problems were reported above.
                        Err(_) if !self.cx.is_empty() => {}
                        Err(e) => self.cx.push(Diagnostic::new(span, format!("cannot embed the context: {e:?}"))),
                    }
                }
            }
        }
        checked
    }

    fn files_error(&mut self, src: &Str, origin: Option<&str>, root: &Path, e: FilesError) {
        let value = src.value().unwrap_or_default();
        let mut d = match e {
            FilesError::NoMatch => Diagnostic::new(src.span(), format!("no file matches `{value}` in `{}`", root.display()))
                .help("copy sources are relative to the context folder (this source file's folder, or `context`), after `.dockerignore` and `ignore` rules"),
            FilesError::SymlinkEscapes(link) => Diagnostic::new(src.span(), format!("symlink `{link}` points outside the context folder"))
                .help("copy what it points to into the context folder, or leave out `resolve_symlinks` to copy the link itself"),
            FilesError::Io(e) => Diagnostic::new(src.span(), format!("cannot read the context: {e}")),
        };
        if let Some(origin) = origin {
            d.message = format!("{origin}: COPY: {}", d.message);
        }
        self.cx.push(d);
    }

    /// Reports a `{expr}` where only literals are allowed (`.tmpl` files).
    fn str(&mut self, s: &Str) {
        if let Str::Expr(_, span) = s {
            if !self.env.allow_exprs {
                self.cx.push(
                    Diagnostic::new(*span, "`{...}` is Rust code, which a .tmpl file cannot run")
                        .help("write the value as a string literal, or write the template with `template!` in Rust"),
                );
            }
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

    fn second_finish(&mut self, span: Span) {
        if self.finish.is_some() {
            self.cx.push(
                Diagnostic::new(span, "a second `start`/`ready`")
                    .help("a template has one start command and one ready check; remove this one"),
            );
        }
        self.finish = Some(span);
    }

    fn options<'o>(&mut self, stmt: &str, options: &'o Options, allowed: &[&str]) -> Opts<'o> {
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

    fn opt_str(&mut self, o: &Opts, name: &str) -> Option<Str> {
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

    fn opt_user(&mut self, o: &Opts) -> Option<Str> {
        let user = self.opt_str(o, "user")?;
        // An empty user means "no user", as in the SDKs.
        self.lit_rule(&user, |u| if u.is_empty() { Ok(()) } else { rules::user(u) });
        Some(user)
    }

    fn opt_flag(&mut self, o: &Opts, name: &str) -> Option<bool> {
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

    fn opt_int<'o>(&mut self, o: &Opts<'o>, name: &str) -> Option<(u32, &'o LitInt)> {
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

    fn int(&mut self, lit: &LitInt) -> Option<u32> {
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

    fn opt_mode(&mut self, o: &Opts) -> Option<u32> {
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

    fn secret(&mut self, o: &Opts, name: &str, required: bool, stmt_span: Span) -> Option<SecretSrc> {
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

    fn required_str(&mut self, o: &Opts, name: &str, stmt_span: Span) -> Option<Str> {
        if !o.0.contains_key(name) {
            self.cx.push(
                Diagnostic::new(stmt_span, format!("missing `{name}`"))
                    .help(format!("add `{name} = \"...\"` to the options")),
            );
            return None;
        }
        let s = self.opt_str(o, name)?;
        self.lit_rule(&s, |v| if v.is_empty() { Err(Rule::EmptyCredential("region")) } else { Ok(()) });
        Some(s)
    }

    fn image(&mut self, s: &Str) {
        self.str(s);
        self.lit_rule(s, rules::image_reference);
    }

    fn from(&mut self, s: &ast::FromStmt) -> Option<FromResult> {
        let kind = s.kind.to_string();
        let span = s.kind.span();
        let named = match kind.as_str() {
            "python" => Some(("from_python_image", "python:", "3")),
            "node" => Some(("from_node_image", "node:", "lts")),
            "bun" => Some(("from_bun_image", "oven/bun:", "latest")),
            "ubuntu" => Some(("from_ubuntu_image", "ubuntu:", "latest")),
            "debian" => Some(("from_debian_image", "debian:", "stable")),
            "fedora" => Some(("from_fedora_image", "fedora:", "44")),
            "alpine" => Some(("from_alpine_image", "alpine:", "3.24")),
            "arch" => Some(("from_arch_image", "archlinux:", "latest")),
            _ => None,
        };
        let takes_options = matches!(kind.as_str(), "image" | "registry" | "aws" | "gcp" | "huawei" | "dockerfile");
        if s.has_options && !takes_options && crate::ast::BASES.contains(&kind.as_str()) {
            self.cx.push(Diagnostic::new(span, format!("`from {kind}` takes no options")).help("remove the `(...)`"));
            return None;
        }
        if let Some((method, prefix, _)) = named {
            if let Some(v) = &s.arg {
                self.str(v);
                self.lit_rule(v, |v| rules::image_reference(&format!("{prefix}{v}")));
            }
            return Some(FromResult::Base(BaseOp::Named(method, s.arg.clone())));
        }
        let need_arg = |this: &mut Self, what: &str, example: &str| -> Option<Str> {
            match &s.arg {
                Some(a) => Some(a.clone()),
                None => {
                    this.cx.push(
                        Diagnostic::new(span, format!("`from {kind}` needs {what}"))
                            .help(format!("write `from {kind} {example};`")),
                    );
                    None
                }
            }
        };
        match kind.as_str() {
            "base" => {
                if let Some(a) = &s.arg {
                    self.cx.push(
                        Diagnostic::new(a.span(), "`from base` takes no argument")
                            .help("write `from base;`, or `from image \"...\";` for a specific image"),
                    );
                    return None;
                }
                Some(FromResult::Base(BaseOp::Default))
            }
            "image" | "registry" => {
                let image = need_arg(self, "an image", "\"ubuntu:24.04\"")?;
                self.image(&image);
                let o = self.options(&format!("from {kind}"), &s.options, &["username", "password"]);
                let required = kind == "registry";
                let has_any = !o.0.is_empty();
                if required && !has_any && s.options.items.is_empty() {
                    self.cx.push(
                        Diagnostic::new(span, "`from registry` needs credentials")
                            .help("write `from registry \"host/image:tag\" (username = env(\"REGISTRY_USER\"), password = env(\"REGISTRY_PASSWORD\"));`, or `from image` for a public image"),
                    );
                    return None;
                }
                let user = self.secret(&o, "username", required || has_any, span);
                let pass = self.secret(&o, "password", required || has_any, span);
                let creds = match (user, pass) {
                    (Some(u), Some(p)) => Some((u, p)),
                    _ => None,
                };
                Some(FromResult::Base(BaseOp::Image(image, creds)))
            }
            "aws" | "huawei" => {
                let image = need_arg(self, "an image", "\"123.dkr.ecr.us-west-2.amazonaws.com/app:1\"")?;
                self.image(&image);
                if s.options.items.is_empty() {
                    self.cx.push(Diagnostic::new(span, format!("`from {kind}` needs credentials")).help(format!(
                        "write `from {kind} \"...\" (access_key_id = env(\"ACCESS_KEY_ID\"), secret_access_key = env(\"SECRET_ACCESS_KEY\"), region = \"...\");`"
                    )));
                    return None;
                }
                let o = self.options(
                    &format!("from {kind}"),
                    &s.options,
                    &["access_key_id", "secret_access_key", "region"],
                );
                let key = self.secret(&o, "access_key_id", true, span);
                let secret = self.secret(&o, "secret_access_key", true, span);
                let region = self.required_str(&o, "region", span);
                let (access_key_id, secret_access_key, region) = (key?, secret?, region?);
                Some(FromResult::Base(if kind == "aws" {
                    BaseOp::Aws { image, access_key_id, secret_access_key, region }
                } else {
                    BaseOp::Huawei { image, access_key_id, secret_access_key, region }
                }))
            }
            "gcp" => {
                let image = need_arg(self, "an image", "\"us-docker.pkg.dev/project/repo/app:1\"")?;
                self.image(&image);
                let o = self.options("from gcp", &s.options, &["service_account_json"]);
                let service_account = self.secret(&o, "service_account_json", true, span)?;
                Some(FromResult::Base(BaseOp::Gcp { image, service_account }))
            }
            "template" => {
                let name = need_arg(self, "a template name", "\"my-base\"")?;
                self.str(&name);
                self.lit_rule(&name, |n| if n.trim().is_empty() { Err(Rule::EmptyTemplateName) } else { Ok(()) });
                Some(FromResult::Base(BaseOp::Template(name)))
            }
            "dockerfile" => {
                let path = need_arg(self, "a path", "\"Dockerfile\"")?;
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
            other => {
                self.cx.push(Diagnostic::new(span, format!("unknown base `{other}`")).help(unknown_help(
                    other,
                    "bases",
                    crate::ast::BASES,
                )));
                None
            }
        }
    }

    fn resolve(&self, root: Option<&Path>, rel: &str) -> Option<PathBuf> {
        let p = Path::new(rel);
        if p.is_absolute() {
            return Some(p.to_owned());
        }
        root.map(|r| r.join(p))
    }

    /// The `(arg NAME = "value", ...)` of `from dockerfile`: names and values, each name spanned.
    /// Values must be literals: the Dockerfile is converted while the crate compiles, so a value
    /// known only at run time could not change the steps the macro writes. The well-formed ones
    /// are returned even when others are not, so the Dockerfile is still checked with them.
    fn dockerfile_args(&mut self, options: &Options) -> Vec<(String, Span, String)> {
        let mut args: Vec<(String, Span, String)> = Vec::new();
        for opt in &options.items {
            let name = opt.name.to_string();
            if name != "arg" {
                self.cx.push(
                    Diagnostic::new(opt.name.span(), format!("unknown option `{name}` for `from dockerfile`"))
                        .help(unknown_help(&name, "options of `from dockerfile`", &["arg"])),
                );
                continue;
            }
            let Some(key) = &opt.key else {
                self.cx.push(
                    Diagnostic::new(opt.name.span(), "`arg` needs the build arg's name")
                        .help("write `arg NAME = \"value\"`, e.g. `arg VERSION = \"3.12\"`"),
                );
                continue;
            };
            let (arg_name, name_span) = (key.name(), key.span());
            if arg_name.is_empty() {
                self.cx.push(
                    Diagnostic::new(name_span, "empty build arg name")
                        .help("write the name an `ARG` of the Dockerfile declares"),
                );
                continue;
            }
            let value = match &opt.value {
                Some(OptValue::Str(Str::Lit(v))) => v.value(),
                Some(OptValue::Str(e @ Str::Expr(..))) if !self.env.allow_exprs => {
                    // The .tmpl rule says it: no Rust code there.
                    self.str(e);
                    continue;
                }
                Some(OptValue::Str(Str::Expr(_, span))) => {
                    self.cx
                        .push(Diagnostic::new(*span, "a build arg of `from dockerfile` must be a string literal").help(
                        format!(
                            "the Dockerfile is converted while the crate compiles, so the value must be known then; \
                                 for a value chosen at run time, convert there: \
                                 `Template::new().from_dockerfile_with(include_str!(\"Dockerfile\"), \
                                 &DockerfileOptions::new().build_arg(\"{arg_name}\", value))`"
                        ),
                    ));
                    continue;
                }
                Some(v) => {
                    self.cx.push(
                        Diagnostic::new(v.span(), format!("build arg `{arg_name}` takes a string"))
                            .help(format!("write `arg {arg_name} = \"...\"`")),
                    );
                    continue;
                }
                None => {
                    self.cx.push(
                        Diagnostic::new(name_span, format!("build arg `{arg_name}` needs a value"))
                            .help(format!("write `arg {arg_name} = \"...\"`")),
                    );
                    continue;
                }
            };
            if args.iter().any(|(n, _, _)| *n == arg_name) {
                self.cx.push(
                    Diagnostic::new(name_span, format!("build arg `{arg_name}` given twice"))
                        .help("write each `arg` once"),
                );
                continue;
            }
            args.push((arg_name, name_span, value));
        }
        args
    }

    fn read_dockerfile(&mut self, lit: &LitStr, args: &[(String, Span, String)]) -> Option<dockerfile::Converted> {
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
        let options = dockerfile::DockerfileOptions::new().build_args(args.iter().map(|(n, _, v)| (n, v)));
        let mut result = dockerfile::convert(&text, &options);
        if let Ok(c) = &result {
            // Strictly what the Dockerfile declares: a misspelt name would otherwise be a build
            // arg that silently changes nothing (Docker only warns).
            let undeclared: Vec<&(String, Span, String)> =
                args.iter().filter(|(n, _, _)| !c.declared_args.contains(n)).collect();
            if !undeclared.is_empty() {
                let declared = if c.declared_args.is_empty() {
                    "the Dockerfile declares no ARG".to_owned()
                } else {
                    let names: Vec<String> = c.declared_args.iter().map(|n| format!("`{n}`")).collect();
                    format!("the Dockerfile declares {}", names.join(", "))
                };
                for (name, span, _) in &undeclared {
                    let d = Diagnostic::new(
                        *span,
                        format!("build arg `{name}` is not declared by an `ARG` of `{}`", lit.value()),
                    );
                    let d = match crate::diag::did_you_mean(name, c.declared_args.iter().map(String::as_str)) {
                        Some(best) => d.help(format!("did you mean `{best}`? ({declared})")),
                        None => d.help(format!("{declared}; add `ARG {name}` to the Dockerfile or remove this `arg`")),
                    };
                    self.cx.push(d);
                }
                // Convert again without them, so that the Dockerfile's own problems are still
                // reported without the runtime's "unused build arg" warnings.
                let declared_only = dockerfile::DockerfileOptions::new()
                    .build_args(args.iter().filter(|(n, _, _)| c.declared_args.contains(n)).map(|(n, _, v)| (n, v)));
                result = dockerfile::convert(&text, &declared_only);
            }
        }
        match result {
            // What the runtime import skips with a warning is an error here: the template would
            // silently differ from the Dockerfile.
            Ok(c) if !c.warnings.is_empty() => {
                for w in &c.warnings {
                    let line = text.lines().nth(w.line.wrapping_sub(1)).unwrap_or("");
                    self.cx.push(
                        Diagnostic::new(
                            lit.span(),
                            format!("{}:{}:{}: {}\n  {:>4} | {line}", path.display(), w.line, w.column, w.message, w.line),
                        )
                        .help("remove the instruction from the Dockerfile, or write the template with `template!` statements"),
                    );
                }
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                let mut message = if e.line == 0 {
                    format!("{}: {}", path.display(), e.message)
                } else {
                    format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message)
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
    fn dockerfile_ops(
        &mut self,
        lit: &LitStr,
        c: dockerfile::Converted,
        span: Span,
        ops: &mut Vec<Op>,
        copies: &mut Vec<(Str, bool, Option<String>)>,
    ) {
        let s = |v: &str| Str::Lit(LitStr::new(v, lit.span()));
        let so = |v: &Option<String>| v.as_deref().map(s);
        let image = s(&c.base_image);
        self.image(&image);
        ops.push(Op { span, kind: OpKind::Base(BaseOp::Image(image, None)) });
        for step in &c.steps {
            let kind = match &step.kind {
                StepKind::Run { commands, user } => {
                    OpKind::Run { commands: commands.iter().map(|c| s(c)).collect(), user: so(user) }
                }
                StepKind::Copy(cp) => {
                    copies.push((
                        s(&cp.src),
                        cp.resolve_symlinks == Some(true),
                        Some(format!("{}:{}", lit.value(), step.line)),
                    ));
                    OpKind::Copy {
                        sources: vec![s(&cp.src)],
                        dest: s(&cp.dest),
                        user: so(&cp.user),
                        mode: cp.mode,
                        force_upload: cp.force_upload,
                        resolve_symlinks: cp.resolve_symlinks,
                        gzip: cp.gzip,
                    }
                }
                StepKind::Env(pairs) => OpKind::Env(pairs.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
                StepKind::Workdir(p) => OpKind::Workdir(s(p)),
                StepKind::User(u) => OpKind::User(s(u)),
                other => {
                    self.cx.push(Diagnostic::new(
                        lit.span(),
                        format!("Dockerfile line {}: cannot express {other:?} as a template step", step.line),
                    ));
                    continue;
                }
            };
            ops.push(Op { span, kind });
        }
        let ready = c.ready_cmd.map(|r| match r {
            ReadyCmd::Port(p) => ReadyOp::Port(p),
            ReadyCmd::Url { url, status } => ReadyOp::Url(s(&url), Some(status)),
            ReadyCmd::Process(p) => ReadyOp::Process(s(&p)),
            ReadyCmd::File(f) => ReadyOp::File(s(&f)),
            ReadyCmd::Timeout(d) => ReadyOp::Timeout(d.as_millis() as u64),
            ReadyCmd::Command(cmd) => ReadyOp::Command(s(&cmd)),
        });
        match (c.start_cmd, ready) {
            (Some(cmd), ready) => {
                let ready = ready.unwrap_or(ReadyOp::Timeout(20_000));
                ops.push(Op { span, kind: OpKind::Start { command: s(&cmd), ready } })
            }
            (None, Some(ready)) => ops.push(Op { span, kind: OpKind::Ready(ready) }),
            (None, None) => {}
        }
    }

    fn ready(&mut self, r: &Ready) -> Option<ReadyOp> {
        Some(match r {
            Ready::Port(_, lit) => {
                let v = self.int(lit)?;
                if let Err(rule) = rules::port(v) {
                    self.cx.push(Diagnostic::rule(lit.span(), &rule));
                    return None;
                }
                ReadyOp::Port(v as u16)
            }
            Ready::Url(_, url, status) => {
                self.str(url);
                if url.value().is_some_and(|u| u.trim().is_empty()) {
                    self.cx.push(Diagnostic::new(url.span(), "the ready URL is empty").help(
                        "write the URL to poll from inside the sandbox, e.g. `\"http://localhost:8000/health\"`",
                    ));
                }
                let status = match status {
                    Some(lit) => {
                        let v = self.int(lit)?;
                        if let Err(rule) = rules::http_status(v) {
                            self.cx.push(Diagnostic::rule(lit.span(), &rule));
                            return None;
                        }
                        Some(v as u16)
                    }
                    None => None,
                };
                ReadyOp::Url(url.clone(), status)
            }
            Ready::Process(_, name) => {
                self.str(name);
                self.lit_rule(name, rules::command);
                ReadyOp::Process(name.clone())
            }
            Ready::File(_, path) => {
                self.str(path);
                self.lit_rule(path, |p| rules::path("ready file", p));
                ReadyOp::File(path.clone())
            }
            Ready::Timeout(_, lit) => {
                let n: u64 = match lit.base10_parse() {
                    Ok(n) => n,
                    Err(_) => {
                        self.cx
                            .push(Diagnostic::new(lit.span(), "timeout out of range").help("write e.g. `timeout 20s`"));
                        return None;
                    }
                };
                let ms = match lit.suffix() {
                    "s" => n.saturating_mul(1000),
                    "ms" => n,
                    other => {
                        let what = if other.is_empty() {
                            "a timeout needs a unit".to_owned()
                        } else {
                            format!("unknown unit `{other}`")
                        };
                        self.cx.push(
                            Diagnostic::new(lit.span(), what).help(format!("write `timeout {n}s` or `timeout {n}ms`")),
                        );
                        return None;
                    }
                };
                ReadyOp::Timeout(ms)
            }
            Ready::Command(cmd) => {
                self.str(cmd);
                self.lit_rule(cmd, rules::command);
                ReadyOp::Command(cmd.clone())
            }
        })
    }

    fn context(&mut self, context: Option<&Str>) -> (ContextDir, Option<PathBuf>) {
        match context {
            Some(Str::Expr(t, s)) => (ContextDir::Expr(t.clone(), *s), None),
            Some(Str::Lit(lit)) => {
                let v = lit.value();
                if let Err(rule) = rules::path("context folder", &v) {
                    self.cx.push(Diagnostic::rule(lit.span(), &rule));
                    return (ContextDir::Unknown, None);
                }
                match self.resolve(self.env.base_dir.as_deref(), &v) {
                    Some(dir) if dir.is_dir() => (ContextDir::Dir(dir.clone()), Some(dir)),
                    Some(dir) => {
                        self.cx.push(
                            Diagnostic::new(lit.span(), format!("context folder `{}` does not exist", dir.display()))
                                .help("the path is relative to this source file's folder"),
                        );
                        (ContextDir::Unknown, None)
                    }
                    None => (ContextDir::Unknown, None),
                }
            }
            None => match &self.env.base_dir {
                Some(dir) => (ContextDir::Dir(dir.clone()), Some(dir.clone())),
                None => (ContextDir::Unknown, None),
            },
        }
    }
}

enum FromResult {
    Base(BaseOp),
    Dockerfile(LitStr, dockerfile::Converted),
}
