//! The build context: which files a COPY step takes, their `filesHash`, and the tar.gz uploaded
//! for them.
//!
//! Everything follows the Python SDK (`e2b==2.63.0`), whose behaviour does not depend on the
//! file system (CONFORMANCE.md items 3, 4 and 6):
//!
//! * a COPY source is a glob (`*`, `?`, `[...]`, `**`; dotfiles match), expanded from the context
//!   folder; a matched directory brings everything under it;
//! * `<context>/.dockerignore`, then the template's ignore patterns, leave paths out with Docker's
//!   rules (`!` re-includes, the last match wins, an excluded directory drops its subtree unless a
//!   `!` pattern re-includes something under it);
//! * symlinks are kept as links and symlinked directories are never entered; with
//!   `resolve_symlinks`, a link to a file or directory is taken as what it points to.
//!
//! What leaves the context is refused (the SDKs do not check this):
//! absolute sources and sources with `..` climbing out are validation errors; with
//! `resolve_symlinks`, a symlink whose target (all links followed) is outside the context folder
//! is [`Error::SymlinkEscapes`](crate::Error::SymlinkEscapes); so is a source that reaches files through a symlinked directory
//! pointing outside (`link/secret`, or a glob through it: like the SDK's glob we follow
//! symlinked directories on the way to a match, but `**` and the walk of a copied folder never
//! enter them).
//! Links kept as links are archived as links whatever their target: nothing is read through
//! them, and inside the sandbox they point where they pointed on the build machine.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::create_dir_all(dir.path().join("app/logs")).unwrap();
//! # std::fs::write(dir.path().join("app/main.py"), "print(1)\n").unwrap();
//! # std::fs::write(dir.path().join("app/logs/x.log"), "").unwrap();
//! # std::fs::write(dir.path().join(".dockerignore"), "**/logs\n").unwrap();
//! use sandbox_template_runtime::context::BuildContext;
//!
//! let ctx = BuildContext::open(dir.path()).unwrap(); // reads `.dockerignore`
//! let entries = ctx.entries("app", false).unwrap();
//! let paths: Vec<String> = entries.iter().map(|e| e.path().display().to_string()).collect();
//! assert_eq!(paths, ["app", "app/main.py"]);
//! ```

// The submodules build on each other in this order and never import back up: `meta` (what a
// path is), `embedded` (compiled-in files), `source` (reading files from either place), `glob` and
// `ignore` (patterns), `walk` (enumerating a COPY source), `entry`, `read` (prefetching
// contents), `hash` and `archive`, `build_context` (the public entry point), `embed_plan`.
mod build_context;
pub(crate) mod embed_plan;
mod embedded;
mod entry;
mod glob;
mod hash;
mod ignore;
mod meta;
mod read;
mod source;
mod walk;

#[cfg(feature = "archive")]
mod archive;

pub use build_context::{BuildContext, CopySource};
pub use embedded::{EmbeddedDir, EmbeddedEntry, EmbeddedKind};
pub use entry::Entry;
pub use meta::EntryKind;
pub use source::ContextSource;
