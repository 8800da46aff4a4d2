//! The checked template: what the checker hands to the lowering (macro, build.rs) and to the
//! interpreter (`.tmpl` files), so both produce the same builder calls from the same decisions.
//!
//! Values that come from Rust at run time stay [`Str::Expr`]; everything else is known and has
//! passed the rules.

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};

pub use crate::ast::Str;

/// A checked template, ready to lower or interpret.
#[derive(Clone)]
pub struct Checked {
    /// Where `copy` sources come from.
    pub context: ContextDir,
    /// Extra ignore patterns (after the context's `.dockerignore`).
    pub ignore: Vec<Str>,
    /// With `embed;`: the files to compile into the binary.
    pub embed: Option<Vec<crate::files::Entry>>,
    /// Files whose edits must rebuild the template (copied files, Dockerfiles).
    pub tracked: Vec<PathBuf>,
    /// Whether `tracked` was capped (see [`crate::files::TRACK_LIMIT`]).
    pub tracked_truncated: bool,
    /// Builder calls, in order.
    pub ops: Vec<Op>,
    /// `provider NAME;`: the provider the template is written for (`None`: the default, E2B).
    pub provider: Option<sandbox_template_runtime::Provider>,
}

/// The context folder of a checked template.
#[derive(Clone)]
pub enum ContextDir {
    /// Known at compile time (absolute).
    Dir(PathBuf),
    /// `context {expr}`.
    Expr(TokenStream, Span),
    /// Unknown (no source file and no `context`): the runtime default, the current folder.
    Unknown,
}

/// One builder call, with the statement it came from.
#[derive(Clone)]
pub struct Op {
    /// The statement's keyword: builder locations and runtime errors point here.
    pub span: Span,
    /// What to call.
    pub kind: OpKind,
}

/// A secret's source.
#[derive(Clone)]
pub enum SecretSrc {
    /// `env("VAR")`.
    Env(Str),
    /// `file("path")`, relative to the context folder.
    File(Str),
    /// `{expr}`: anything that converts into a `Secret`.
    Expr(TokenStream, Span),
}

/// The base.
#[derive(Clone)]
pub enum BaseOp {
    /// `from python|node|... [STR]`: the distro and the version.
    Distro(&'static sandbox_template_runtime::Distro, Option<Str>),
    /// `from base`.
    Default,
    /// `from image|registry STR [(username, password, inherit_config)]`; the flag is whether the
    /// image's config is inherited (Novita; `inherit_config = false` turns it off).
    Image(Str, Option<(SecretSrc, SecretSrc)>, bool),
    /// `from aws STR (...)`.
    Aws {
        /// The image reference.
        image: Str,
        /// `access_key_id = SECRET`.
        access_key_id: SecretSrc,
        /// `secret_access_key = SECRET`.
        secret_access_key: SecretSrc,
        /// `region = STR`.
        region: Str,
    },
    /// `from gcp STR (service_account_json = ...)`.
    Gcp {
        /// The image reference.
        image: Str,
        /// `service_account_json = SECRET`.
        service_account: SecretSrc,
    },
    /// `from huawei STR (...)`.
    Huawei {
        /// The image reference.
        image: Str,
        /// `access_key_id = SECRET`.
        access_key_id: SecretSrc,
        /// `secret_access_key = SECRET`.
        secret_access_key: SecretSrc,
        /// `region = STR`.
        region: Str,
    },
    /// `from oci STR (...)`.
    Oci {
        /// The image reference.
        image: Str,
        /// `tenancy_ocid = STR`.
        tenancy_ocid: Str,
        /// `user_ocid = STR`.
        user_ocid: Str,
        /// `fingerprint = STR`.
        fingerprint: Str,
        /// `private_key = SECRET`.
        private_key: SecretSrc,
        /// `region = STR`.
        region: Str,
    },
    /// `from template STR`.
    Template(Str),
}

/// A ready check.
#[derive(Clone)]
pub enum ReadyOp {
    /// `port INT`.
    Port(u16),
    /// `url STR [status INT]`.
    Url(Str, Option<u16>),
    /// `process STR`.
    Process(Str),
    /// `file STR`.
    File(Str),
    /// `timeout 20s`, in milliseconds.
    Timeout(u64),
    /// A shell command, or `{expr}` converting into a `ReadyCmd`.
    Command(Str),
}

/// What a builder call does (one variant per builder method family).
#[derive(Clone)]
#[allow(missing_docs)]
pub enum OpKind {
    SkipCache,
    Base(BaseOp),
    Run {
        commands: Vec<Str>,
        user: Option<Str>,
    },
    Copy {
        sources: Vec<Str>,
        dest: Str,
        user: Option<Str>,
        mode: Option<u32>,
        force_upload: Option<bool>,
        resolve_symlinks: Option<bool>,
        gzip: Option<bool>,
    },
    Env {
        vars: Vec<(String, Str)>,
        literal: bool,
    },
    Workdir(Str),
    User(Str),
    Pip {
        packages: Vec<Str>,
        global: Option<bool>,
    },
    Npm {
        packages: Vec<Str>,
        global: bool,
        dev: bool,
    },
    Bun {
        packages: Vec<Str>,
        global: bool,
        dev: bool,
    },
    Apt {
        packages: Vec<Str>,
        no_install_recommends: bool,
        fix_missing: bool,
    },
    Git {
        url: Str,
        dest: Option<Str>,
        branch: Option<Str>,
        depth: Option<u32>,
        user: Option<Str>,
    },
    Mkdir {
        paths: Vec<Str>,
        mode: Option<u32>,
        user: Option<Str>,
    },
    Remove {
        paths: Vec<Str>,
        recursive: bool,
        force: bool,
        user: Option<Str>,
    },
    Rename {
        src: Str,
        dest: Str,
        force: bool,
        user: Option<Str>,
    },
    Symlink {
        src: Str,
        dest: Str,
        force: bool,
        user: Option<Str>,
    },
    McpServers(Vec<Str>),
    DevContainerPrebuild(Str),
    /// `devcontainer start`: the start command and ready check of the SDKs' helper.
    DevContainerStart(Str),
    /// `patch`: Novita's pre-boot script.
    PatchCmd(Str),
    Start {
        command: Str,
        ready: ReadyOp,
    },
    Ready(ReadyOp),
}
