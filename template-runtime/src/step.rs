//! Template steps: what each builder call records, and how it renders into the build request.
//!
//! Steps are stored by meaning (a `remove` keeps its paths and flags, not a command string), so the
//! same template renders for E2B and for Novita, and validation can speak about the user's values.

use std::panic::Location;

use crate::quote::shell_quote;
use crate::wire::WireStep;

/// Where in the user's code a base, step or start command was added: the builder call (captured
/// with `#[track_caller]`) or the `template!` statement that expanded into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// Source file, as the compiler names it.
    pub file: &'static str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl SourceLocation {
    /// The location of the caller of the `#[track_caller]` function this is called from.
    #[track_caller]
    pub fn caller() -> Self {
        Location::caller().into()
    }
}

impl From<&'static Location<'static>> for SourceLocation {
    fn from(l: &'static Location<'static>) -> Self {
        SourceLocation { file: l.file(), line: l.line(), column: l.column() }
    }
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One build step of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// Rebuild this step even if cached (set by `skip_cache`, or `force_upload` on a copy).
    pub force: bool,
    /// Where the step was added.
    pub location: SourceLocation,
}

/// What a step does. Each variant corresponds to one builder method.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepKind {
    /// `run_cmd`: commands joined with ` && `.
    Run {
        /// The commands.
        commands: Vec<String>,
        /// Run as this user (`None`: the current user).
        user: Option<String>,
    },
    /// `copy`: one source into the image.
    Copy(CopyStep),
    /// `set_envs` / `set_envs_with`: environment variables, in order.
    Env {
        /// Names and values, in order.
        vars: Vec<(String, String)>,
        /// Set the values as written, `$` included, on every provider
        /// ([`EnvOptions::literal`](crate::EnvOptions::literal)); otherwise each provider's own
        /// rule applies (E2B: as written; Novita: `$VAR` expands).
        literal: bool,
    },
    /// `set_workdir`.
    Workdir(String),
    /// `set_user`.
    User(String),
    /// `pip_install`.
    PipInstall {
        /// Packages (empty: the project in the working directory, `.`).
        packages: Vec<String>,
        /// Install system-wide as root (default) instead of `--user`.
        global: bool,
    },
    /// `npm_install`.
    NpmInstall {
        /// Packages (empty: the project's `package.json`).
        packages: Vec<String>,
        /// `-g`, as root.
        global: bool,
        /// `--save-dev`.
        dev: bool,
    },
    /// `bun_install`.
    BunInstall {
        /// Packages (empty: the project's `package.json`).
        packages: Vec<String>,
        /// `-g`, as root.
        global: bool,
        /// `--dev`.
        dev: bool,
    },
    /// `apt_install`.
    AptInstall {
        /// Packages.
        packages: Vec<String>,
        /// `--no-install-recommends`.
        no_install_recommends: bool,
        /// `--fix-missing`.
        fix_missing: bool,
    },
    /// `git_clone`.
    GitClone {
        /// Repository URL.
        url: String,
        /// Destination folder.
        path: Option<String>,
        /// Branch to check out (`--single-branch`).
        branch: Option<String>,
        /// `--depth`.
        depth: Option<u32>,
        /// Run as this user.
        user: Option<String>,
    },
    /// `remove`: `rm`.
    Remove {
        /// Paths to remove.
        paths: Vec<String>,
        /// `-r`.
        recursive: bool,
        /// `-f`.
        force: bool,
        /// Run as this user.
        user: Option<String>,
    },
    /// `rename`: `mv`.
    Rename {
        /// From.
        src: String,
        /// To.
        dest: String,
        /// `-f`.
        force: bool,
        /// Run as this user.
        user: Option<String>,
    },
    /// `make_dir`: `mkdir -p`.
    MakeDir {
        /// Folders.
        paths: Vec<String>,
        /// `-m`.
        mode: Option<u32>,
        /// Run as this user.
        user: Option<String>,
    },
    /// `make_symlink`: `ln -s`.
    MakeSymlink {
        /// Link target.
        src: String,
        /// Link path.
        dest: String,
        /// `-f`.
        force: bool,
        /// Run as this user.
        user: Option<String>,
    },
    /// `add_mcp_server` (only on the `mcp-gateway` template).
    McpServers(Vec<String>),
    /// `beta_dev_container_prebuild` (only on the `devcontainer` template).
    DevContainerPrebuild(String),
}

/// A `copy` step's source, destination and options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyStep {
    /// Source, relative to the context folder; may be a glob (`*`, `**`, `?`, `[...]`).
    pub src: String,
    /// Destination in the image.
    pub dest: String,
    /// Owner (`user` or `user:group`).
    pub user: Option<String>,
    /// Permission bits applied to the copied files.
    pub mode: Option<u32>,
    /// Upload even if the build service already has this content.
    pub force_upload: Option<bool>,
    /// Copy what symlinks point to instead of the links.
    pub resolve_symlinks: Option<bool>,
    /// Compress the upload (default true).
    pub gzip: Option<bool>,
}

/// `0o755` → `"0755"`, as the SDKs print modes.
pub(crate) fn octal(mode: u32) -> String {
    format!("{mode:04o}")
}

fn run(command: String, user: Option<&str>) -> (Vec<String>, &'static str) {
    let mut args = vec![command];
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        args.push(u.to_owned());
    }
    (args, "RUN")
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|s| shell_quote(s)).collect::<Vec<_>>().join(" ")
}

impl Step {
    /// The step as the build service receives it (without `filesHash`, which needs the
    /// context: [`Template::build_request`](crate::Template::build_request) adds it).
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// let t = Template::new().apt_install("curl");
    /// let wire = t.steps()[0].to_wire();
    /// assert_eq!((wire.kind.as_str(), wire.args[1].as_str()), ("RUN", "root"));
    /// ```
    pub fn to_wire(&self) -> WireStep {
        let mut copy_opts = (None, None, None);
        let (args, kind) = match &self.kind {
            StepKind::Run { commands, user } => run(commands.join(" && "), user.as_deref()),
            StepKind::Copy(c) => {
                copy_opts = (c.force_upload, c.resolve_symlinks, c.gzip);
                let args = vec![
                    c.src.clone(),
                    c.dest.clone(),
                    c.user.clone().unwrap_or_default(),
                    c.mode.map(octal).unwrap_or_default(),
                ];
                (args, "COPY")
            }
            StepKind::Env { vars, .. } => (vars.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(), "ENV"),
            StepKind::Workdir(p) => (vec![p.clone()], "WORKDIR"),
            StepKind::User(u) => (vec![u.clone()], "USER"),
            StepKind::PipInstall { packages, global } => {
                let mut cmd = String::from("pip install");
                if !global {
                    cmd.push_str(" --user");
                }
                cmd.push(' ');
                cmd.push_str(&if packages.is_empty() { ".".to_owned() } else { packages.join(" ") });
                run(cmd, global.then_some("root"))
            }
            StepKind::NpmInstall { packages, global, dev } => {
                js_install("npm install", "--save-dev", packages, *global, *dev)
            }
            StepKind::BunInstall { packages, global, dev } => {
                js_install("bun install", "--dev", packages, *global, *dev)
            }
            StepKind::AptInstall { packages, no_install_recommends, fix_missing } => {
                let mut cmd = String::from(
                    "apt-get update && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y ",
                );
                if *no_install_recommends {
                    cmd.push_str("--no-install-recommends ");
                }
                if *fix_missing {
                    cmd.push_str("--fix-missing ");
                }
                cmd.push_str(&packages.join(" "));
                run(cmd, Some("root"))
            }
            StepKind::GitClone { url, path, branch, depth, user } => {
                let mut cmd = format!("git clone {}", shell_quote(url));
                if let Some(b) = branch {
                    cmd.push_str(&format!(" --branch {} --single-branch", shell_quote(b)));
                }
                if let Some(d) = depth {
                    cmd.push_str(&format!(" --depth {d}"));
                }
                if let Some(p) = path {
                    cmd.push(' ');
                    cmd.push_str(&shell_quote(p));
                }
                run(cmd, user.as_deref())
            }
            StepKind::Remove { paths, recursive, force, user } => {
                let mut cmd = String::from("rm");
                if *recursive {
                    cmd.push_str(" -r");
                }
                if *force {
                    cmd.push_str(" -f");
                }
                cmd.push(' ');
                cmd.push_str(&quoted(paths));
                run(cmd, user.as_deref())
            }
            StepKind::Rename { src, dest, force, user } => {
                let mut cmd = format!("mv {} {}", shell_quote(src), shell_quote(dest));
                if *force {
                    cmd.push_str(" -f");
                }
                run(cmd, user.as_deref())
            }
            StepKind::MakeDir { paths, mode, user } => {
                let mut cmd = String::from("mkdir -p");
                if let Some(m) = mode {
                    cmd.push_str(&format!(" -m {}", octal(*m)));
                }
                cmd.push(' ');
                cmd.push_str(&quoted(paths));
                run(cmd, user.as_deref())
            }
            StepKind::MakeSymlink { src, dest, force, user } => {
                let mut cmd = String::from("ln -s");
                if *force {
                    cmd.push_str(" -f");
                }
                cmd.push_str(&format!(" {} {}", shell_quote(src), shell_quote(dest)));
                run(cmd, user.as_deref())
            }
            StepKind::McpServers(names) => run(format!("mcp-gateway pull {}", names.join(" ")), Some("root")),
            StepKind::DevContainerPrebuild(dir) => {
                run(format!("devcontainer build --workspace-folder {}", shell_quote(dir)), Some("root"))
            }
        };
        WireStep {
            kind: kind.to_owned(),
            args,
            force: self.force,
            force_upload: copy_opts.0,
            resolve_symlinks: copy_opts.1,
            gzip: copy_opts.2,
            files_hash: None,
        }
    }

    /// A short description for logs and errors: `copy "app" => "/app/"`.
    pub fn describe(&self) -> String {
        let i = self.to_wire();
        match &self.kind {
            StepKind::Copy(c) => format!("COPY {} {}", c.src, c.dest),
            _ => format!("{} {}", i.kind, i.args.first().map(String::as_str).unwrap_or("")),
        }
    }
}

fn js_install(base: &str, dev_flag: &str, packages: &[String], global: bool, dev: bool) -> (Vec<String>, &'static str) {
    let mut cmd = String::from(base);
    if global {
        cmd.push_str(" -g");
    }
    if dev {
        cmd.push(' ');
        cmd.push_str(dev_flag);
    }
    if !packages.is_empty() {
        cmd.push(' ');
        cmd.push_str(&packages.join(" "));
    }
    run(cmd, global.then_some("root"))
}
