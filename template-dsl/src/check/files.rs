//! The files a template reads at compile time: the context folder (`context`, `ignore`),
//! whether each `copy` source names something in it, the files whose edits rebuild the crate,
//! and what `embed;` compiles into the binary.

use std::path::PathBuf;

use proc_macro2::{Ident, Span};
use sandbox_template_runtime::rules;

use super::{Checker, Collected, CopySource};
use crate::ast::{ContextStmt, IgnoreStmt, Str};
use crate::diag::Diagnostic;
use crate::files::{self, FilesError};
use crate::model::{Checked, ContextDir};

impl Checker<'_> {
    pub(super) fn context_stmt<'b>(&mut self, s: &'b ContextStmt, c: &mut Collected<'b>) {
        if c.context.is_some() {
            self.cx.push(Diagnostic::new(s.kw.span(), "a second `context`").help("name one context folder"));
        }
        self.str(&s.dir);
        c.context = Some(&s.dir);
    }

    pub(super) fn ignore_stmt(&mut self, s: &IgnoreStmt, c: &mut Collected) {
        for p in &s.patterns {
            self.str(p);
            if p.value().is_some_and(|v| v.is_empty()) {
                self.cx
                    .push(Diagnostic::new(p.span(), "empty ignore pattern").help("write a pattern such as `**/*.log`"));
            }
        }
        c.ignore.extend(s.patterns.iter().cloned());
    }

    pub(super) fn embed_stmt(&mut self, kw: &Ident, c: &mut Collected) {
        if c.embed.is_some() {
            self.cx.push(Diagnostic::new(kw.span(), "a second `embed`").help("write `embed;` once"));
        }
        if !self.env.allow_exprs {
            self.cx.push(
                Diagnostic::new(kw.span(), "`embed` is only for `template!` in Rust code")
                    .help("remove `embed;`: a `.tmpl` file's context is its folder"),
            );
        }
        c.embed = Some(kw.span());
    }

    /// The checked template, once the context folder is known: `copy` sources are looked up in
    /// it, the files to rebuild on are collected, and `embed;` is planned.
    pub(super) fn finish(&mut self, c: Collected) -> Checked {
        let (context, root) = self.context(c.context);
        let ignore_lits: Option<Vec<String>> = c.ignore.iter().map(Str::value).collect();
        let mut checked = Checked {
            context,
            ignore: c.ignore,
            embed: None,
            tracked: Vec::new(),
            tracked_truncated: false,
            ops: c.ops,
            provider: self.provider.map(|(p, _)| p),
        };
        for lit in &c.dockerfiles {
            if let Some(path) = self.resolve(self.env.base_dir.as_deref(), &lit.value()) {
                checked.tracked.push(path);
            }
        }
        // Reading the context (its `.dockerignore`, ignore rules) only when something needs it.
        let files = match (&root, ignore_lits) {
            (Some(root), Some(ignore))
                if (self.env.check_copy_sources && !c.copies.is_empty()) || c.embed.is_some() =>
            {
                files::Context::open(root, &ignore).ok() // errors: reported by `context()`
            }
            _ => None,
        };
        if let Some(files) = &files
            && self.env.check_copy_sources
        {
            self.track_copies(files, &c.copies, &mut checked);
        }
        checked.tracked.sort();
        checked.tracked.dedup();
        if let Some(span) = c.embed {
            checked.embed = self.embed(span, files.as_ref(), &c.copies);
        }
        checked
    }

    /// Reports `copy` sources that name nothing, and tracks the files they name (up to
    /// [`files::TRACK_LIMIT`]).
    fn track_copies(&mut self, files: &files::Context, copies: &[CopySource], checked: &mut Checked) {
        for copy in copies {
            let Some(value) = copy.src.value() else { continue };
            match files.entries(&value, copy.resolve_symlinks) {
                Ok(entries) => {
                    for e in entries.iter().filter(|e| e.kind == files::EntryKind::File) {
                        if checked.tracked.len() < files::TRACK_LIMIT {
                            checked.tracked.push(e.abs.clone());
                        } else {
                            checked.tracked_truncated = true;
                        }
                    }
                }
                Err(e) => self.files_error(copy, files, e),
            }
        }
    }

    /// The files `embed;` compiles in, or `None` after reporting why there are none.
    fn embed(
        &mut self,
        span: Span,
        files: Option<&files::Context>,
        copies: &[CopySource],
    ) -> Option<Vec<files::Entry>> {
        let Some(files) = files else {
            self.cx.push(Diagnostic::new(span, "`embed` needs a context folder known at compile time").help(
                "write `context \"folder\";` with a string literal (not `{expr}`), and literal `ignore` patterns",
            ));
            return None;
        };
        let sources: Vec<(String, bool)> =
            copies.iter().filter_map(|c| Some((c.src.value()?, c.resolve_symlinks))).collect();
        match files::plan_embedding(files, &sources) {
            Ok(entries) => Some(entries),
            // Per-source problems were reported above.
            Err(_) if !self.cx.is_empty() => None,
            Err(e) => {
                self.cx.push(Diagnostic::new(span, format!("cannot embed the context: {e}")));
                None
            }
        }
    }

    fn files_error(&mut self, copy: &CopySource, files: &files::Context, e: FilesError) {
        let src = &copy.src;
        let value = src.value().unwrap_or_default();
        let root = files.root();
        let mut d = match e {
            FilesError::NoMatch => {
                let d = Diagnostic::new(src.span(), format!("no file matches `{value}` in `{}`", root.display()));
                match nearest_path(files, &value) {
                    Some(path) => d.help(format!("did you mean `{path}`?")),
                    None => d.help("copy sources are relative to the context folder (this source file's folder, or `context`), after `.dockerignore` and `ignore` rules"),
                }
            }
            FilesError::SymlinkEscapes(link) => Diagnostic::new(src.span(), format!("symlink `{link}` points outside the context folder"))
                .help("copy what it points to into the context folder, or leave out `resolve_symlinks` to copy the link itself"),
            FilesError::Io(e) => Diagnostic::new(src.span(), format!("cannot read the context: {e}")),
        };
        if let Some(origin) = &copy.origin {
            d.message = format!("{origin}: COPY: {}", d.message);
        }
        self.cx.push(d);
    }

    /// The context folder: `context "dir"` resolved and checked, or the source file's folder.
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

/// The existing path closest to `src` (a typo in its last part: `mian.py` -> `main.py`), among the
/// entries of its folder that the context keeps (not ignored), for "did you mean".
fn nearest_path(files: &files::Context, src: &str) -> Option<String> {
    if src.contains(['*', '?', '[']) {
        return None;
    }
    let trimmed = src.trim_end_matches('/');
    let (folder, name) = match trimmed.rsplit_once('/') {
        Some((folder, name)) => (Some(folder), name),
        None => (None, trimmed),
    };
    let dir = match folder {
        Some(folder) => files.root().join(folder),
        None => files.root().to_owned(),
    };
    let mut names: Vec<String> =
        std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    // Sorted: the same suggestion on every file system.
    names.sort();
    let best = sandbox_template_runtime::__private::did_you_mean(name, names.iter().map(String::as_str))?;
    let path = match folder {
        Some(folder) => format!("{folder}/{best}"),
        None => best.to_owned(),
    };
    files.entries(&path, false).is_ok().then_some(path)
}
