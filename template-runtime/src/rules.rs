//! Validation rules: one plain function per rule, over plain values.
//!
//! These are the single source of truth for what a valid template is. `Template::validate` runs
//! them over a template however it was made; the `template!` macro runs the very same functions at
//! compile time, spanned at the offending token. Each returns a [`Rule`] violation that says what
//! is wrong and (through [`Rule::help`]) what to write instead.

use crate::provider::Provider;

/// A broken validation rule: what is wrong with one value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// A path is the empty string.
    #[error("{what} is empty")]
    EmptyPath {
        /// What the path is for ("copy source", "workdir", ...).
        what: &'static str,
    },
    /// A path contains a NUL byte.
    #[error("{what} `{}` contains a NUL byte", .path.escape_debug())]
    NulInPath {
        /// What the path is for.
        what: &'static str,
        /// The path.
        path: String,
    },
    /// A copy source is absolute.
    #[error(
        "Invalid source path \"{0}\": absolute paths are not allowed. Use a relative path within the context directory."
    )]
    AbsoluteSource(String),
    /// A copy source leaves the context folder.
    #[error(
        "Invalid source path \"{0}\": path escapes the context directory. The path must stay within the context directory."
    )]
    EscapingSource(String),
    /// An environment variable name is not `[A-Za-z_][A-Za-z0-9_]*`.
    #[error("invalid environment variable name `{}`", .0.escape_debug())]
    InvalidEnvKey(String),
    /// An env value refers to another variable (`$NAME`, `${NAME}`) where the provider does not
    /// expand it: E2B sets env values as written.
    #[error(
        "the value of `{key}` refers to `{reference}`, but E2B sets env values as written: `{key}` would hold the text `{reference}`"
    )]
    EnvReference {
        /// The variable being set.
        key: String,
        /// Its value.
        value: String,
        /// The first reference in its value, as written (`$PATH`, `${HOME}`).
        reference: String,
    },
    /// The same environment variable twice in one `set_envs`.
    #[error("environment variable `{0}` is set twice in the same step")]
    DuplicateEnvKey(String),
    /// An image reference does not follow Docker's reference grammar.
    #[error("invalid image reference `{reference}`: {reason}")]
    InvalidImageReference {
        /// The reference as written.
        reference: String,
        /// Which part is wrong.
        reason: String,
    },
    /// A template name for `from_template` is empty.
    #[error("the base template name is empty")]
    EmptyTemplateName,
    /// Port 0.
    #[error("port {0} is out of range 1..=65535")]
    InvalidPort(u32),
    /// An HTTP status outside 100..=599.
    #[error("HTTP status {0} is out of range 100..=599")]
    InvalidStatus(u32),
    /// A file mode above 0o7777.
    #[error("mode {0:#o} is above 0o7777")]
    InvalidMode(u32),
    /// A package name that starts with `-`.
    #[error("package name `{0}` starts with `-`")]
    PackageLooksLikeFlag(String),
    /// A package name that is empty or contains whitespace.
    #[error("package name `{0}` is empty or contains whitespace")]
    InvalidPackageName(String),
    /// A package install that names no package where one is needed (`apt`).
    #[error("`apt install` needs at least one package")]
    NoPackages,
    /// A user name that is empty or contains whitespace.
    #[error("user `{0}` is empty or contains whitespace")]
    InvalidUser(String),
    /// Registry credentials with a missing part.
    #[error("Both username and password are required when providing registry credentials")]
    IncompleteCredentials,
    /// A credential written into the code.
    #[error("a secret must not be written into the template")]
    SecretLiteral,
    /// A required field of cloud registry credentials is empty.
    #[error("registry credential `{0}` is empty")]
    EmptyCredential(&'static str),
    /// `add_mcp_server` on another base.
    #[error("MCP servers can only be added to mcp-gateway template")]
    McpWrongBase,
    /// An MCP server name that the provider's official SDK does not list (its `McpServerName`
    /// type; see [`Provider::mcp_servers`]).
    #[error("unknown MCP server `{}` for {}", .name.escape_debug(), provider_title(*.provider))]
    UnknownMcpServer {
        /// The provider the template is built for.
        provider: Provider,
        /// The name as written.
        name: String,
    },
    /// Dev container steps on another base.
    #[error("Devcontainers can only used in the devcontainer template")]
    DevContainerWrongBase,
    /// A `run_cmd` with no command, or an empty one.
    #[error("the command is empty")]
    EmptyCommand,
    /// A git URL that is empty.
    #[error("the repository URL is empty")]
    EmptyUrl,
    /// `git clone --depth 0`.
    #[error("clone depth must be at least 1")]
    InvalidDepth,
    /// A `run` that installs or updates system packages while the current user is not root: the
    /// cloud refuses it ("permission denied"), as steps run as [`DEFAULT_USER`] unless the
    /// template says otherwise.
    #[error("`{command}` needs root, but this step runs as `{user}`")]
    PackageManagerNotRoot {
        /// The package manager and its subcommand as written (`apt-get install`).
        command: String,
        /// The user the step runs as.
        user: String,
    },
    /// A package install with a package manager the base image does not have (`apt install` on
    /// Alpine), known from the base's distro.
    #[error("the base `{image}` has no `{needs}` for `{command}`: its package manager is `{has}`")]
    WrongPackageManager {
        /// The statement or command as written (`apt install`, `apt-get install`).
        command: String,
        /// The package manager it runs (`apt-get`).
        needs: &'static str,
        /// The base image reference.
        image: String,
        /// The base's package manager (`apk`).
        has: &'static str,
    },
    /// A path `remove` cannot remove: `/` (GNU `rm` refuses it; busybox's would empty the image)
    /// or a path ending in `.` or `..` (every `rm` refuses those), so the step fails the build.
    #[error("`rm` cannot remove `{}`", .0.escape_debug())]
    Unremovable(String),
    /// `pip install`, `npm install` or `bun install` on a base known to lack that tool (`pip` on
    /// `ubuntu`, `npm` on `python`) with no step before it that could have installed it.
    #[error("the base `{image}` has no `{tool}` for `{tool} install`")]
    ToolNotInBase {
        /// The tool the statement runs (`pip`, `npm`, `bun`).
        tool: &'static str,
        /// The base image reference.
        image: String,
    },
    /// Something the provider's official SDK does not have (a Huawei Cloud registry on E2B,
    /// `gzip = false` on Novita): the build service would get a request that SDK never sends.
    #[error("{} has no {feature}", provider_title(*.provider))]
    NotOnProvider {
        /// The provider the template is built for.
        provider: Provider,
        /// What it lacks, as written (`Huawei Cloud registry (\`from huawei\`)`).
        feature: &'static str,
        /// What to write instead.
        instead: &'static str,
    },
}

/// The provider's name as its docs write it.
fn provider_title(provider: Provider) -> &'static str {
    match provider {
        Provider::E2b => "E2B",
        Provider::Novita => "Novita",
    }
}

impl Rule {
    /// The message the compile-time checks (`template!`, `sandbox-template check`, build.rs) show
    /// for this rule, in rustc's style: lowercase, code in backticks, no trailing period.
    ///
    /// One rule, two renderings: [`Display`](std::fmt::Display) (what `validate()` and a build
    /// report) keeps the official SDKs' own sentence where an SDK refuses the same mistake (a copy
    /// source that is absolute or leaves the context, half of a registry login, MCP servers or
    /// dev containers on another base), so that a user moving from an SDK recognizes it, and the
    /// conformance suite holds our errors to containing it. Every other rule reads the same both
    /// ways.
    ///
    /// ```
    /// use sandbox_template_runtime::rules::{copy_source, Rule};
    /// let rule = copy_source("/etc/passwd").unwrap_err();
    /// assert!(rule.to_string().starts_with("Invalid source path \"/etc/passwd\": absolute paths are not allowed."));
    /// assert_eq!(rule.compile_message(), "copy source `/etc/passwd` is an absolute path");
    /// assert_eq!(Rule::InvalidPort(0).compile_message(), Rule::InvalidPort(0).to_string());
    /// ```
    pub fn compile_message(&self) -> String {
        match self {
            Rule::AbsoluteSource(src) => format!("copy source `{}` is an absolute path", src.escape_debug()),
            Rule::EscapingSource(src) => {
                format!("copy source `{}` leads out of the context folder", src.escape_debug())
            }
            Rule::IncompleteCredentials => "registry credentials need both a username and a password".into(),
            Rule::McpWrongBase => "MCP servers need the `mcp-gateway` template as the base".into(),
            Rule::DevContainerWrongBase => "dev containers need the `devcontainer` template as the base".into(),
            other => other.to_string(),
        }
    }

    /// What to write instead.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Rule::EmptyPath { .. } => "write a non-empty path".into(),
            Rule::NulInPath { .. } => "remove the NUL byte".into(),
            Rule::AbsoluteSource(_) => "write the source relative to the context folder, e.g. `app/main.py`".into(),
            Rule::EscapingSource(_) => {
                "move the file into the context folder, or point the context at a folder that contains it".into()
            }
            Rule::InvalidEnvKey(key) => {
                let rule = "environment variable names are letters, digits and `_`, not starting with a digit";
                // `APP-ENV`, `my.key`: the same name with `_` for each other character, when that
                // is a valid name.
                let fixed: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
                if !key.is_empty() && env_key(&fixed).is_ok() {
                    format!("{rule}: write `{fixed}`")
                } else {
                    format!("{rule} (e.g. `APP_ENV`)")
                }
            }
            Rule::EnvReference { key, value, reference } => format!(
                "write the full value{}, or keep the text with `set_envs_with(.., EnvOptions::new().literal(true))`; \
                 Novita expands it (`.for_provider(Provider::Novita)`)",
                env_fix_example(key, value, reference)
            ),
            Rule::DuplicateEnvKey(_) => "set each variable once".into(),
            Rule::InvalidImageReference { .. } => {
                "write a Docker image reference such as `python:3.12`, `ghcr.io/org/app:1.0` or `name@sha256:<hex>`"
                    .into()
            }
            Rule::EmptyTemplateName => "name an existing template, e.g. `my-base`".into(),
            Rule::InvalidPort(_) => "use a port between 1 and 65535".into(),
            Rule::InvalidStatus(_) => "use an HTTP status between 100 and 599, e.g. 200".into(),
            Rule::InvalidMode(_) => "write permission bits in octal, e.g. `0o755` or `0o644`".into(),
            Rule::PackageLooksLikeFlag(_) => {
                "flags belong in options: `global = false`, `dev`, `no_install_recommends`, `fix_missing`".into()
            }
            Rule::InvalidPackageName(_) => "write one package per string".into(),
            Rule::NoPackages => "name the packages, e.g. `apt install \"curl\", \"git\";`".into(),
            Rule::InvalidUser(_) => "write a user name such as `root` or `user:group`".into(),
            Rule::IncompleteCredentials => "give both a username and a password, or neither".into(),
            Rule::SecretLiteral => {
                "read it when the build runs: `env(\"VAR\")`, `file(\"path\")`, or pass a value with `{expr}`".into()
            }
            Rule::EmptyCredential(_) => "give every credential field a value".into(),
            Rule::McpWrongBase => "start from the `mcp-gateway` template: `from template \"mcp-gateway\";`".into(),
            Rule::DevContainerWrongBase => {
                "start from the `devcontainer` template: `from template \"devcontainer\";`".into()
            }
            Rule::UnknownMcpServer { provider, name } => mcp_server_help(*provider, name),
            Rule::EmptyCommand => "write the command to run".into(),
            Rule::EmptyUrl => "write the repository URL".into(),
            Rule::InvalidDepth => "use a depth of 1 or more, or leave it out for the full history".into(),
            Rule::PackageManagerNotRoot { .. } => "run it as root: add `(user = \"root\")` after the command, or write \
                 `user \"root\";` before this `run` (builder: `RunOptions::new().user(\"root\")` or `.set_user(\"root\")`)"
                .into(),
            Rule::ToolNotInBase { tool, image } => tool_help(tool, image),
            Rule::Unremovable(_) => "`rm` refuses `/` and paths ending in `.` or `..`: name what to remove inside the \
                 folder, e.g. `remove \"/tmp/build\" (recursive);`"
                .into(),
            Rule::NotOnProvider { instead, .. } => (*instead).into(),
            Rule::WrongPackageManager { needs, has, .. } => format!(
                "install with the base's `{has}` (`{}PACKAGE`, as root), or start from an image that has `{needs}`",
                install_command(has)
            ),
        })
    }
}

/// The language package managers that a distro's official images do not have, by [`Distro`]
/// keyword: `pip`, `npm` and `bun` run the SDKs' `pip_install`, `npm_install` and `bun_install`,
/// which then fail with "not found". Only what is certain is listed: `node` images may carry
/// Python, so `pip` on them is not checked; `from base` and other images are not checked.
///
/// [`Distro`]: crate::Distro
const TOOLS_MISSING: &[(&str, &[&str])] = &[
    ("python", &["npm", "bun"]),
    ("node", &["bun"]),
    ("bun", &["pip"]),
    ("ubuntu", &["pip", "npm", "bun"]),
    ("debian", &["pip", "npm", "bun"]),
    ("fedora", &["pip", "npm", "bun"]),
    ("alpine", &["pip", "npm", "bun"]),
    ("arch", &["pip", "npm", "bun"]),
];

/// `pip install`, `npm install` or `bun install` (`tool` is `pip`, `npm` or `bun`) on the base
/// `image`: refused when the image's distro is known not to have the tool. Apply it only to
/// installs with no earlier step that runs a command (a `run`, or any install), which could have
/// installed the tool.
/// ```
/// use sandbox_template_runtime::rules::{tool_in_base, Rule};
/// assert!(tool_in_base("pip", "python:3.12-alpine").is_ok());
/// assert!(tool_in_base("npm", "node:lts").is_ok());
/// assert!(tool_in_base("pip", "ghcr.io/org/app:1").is_ok());
/// assert_eq!(
///     tool_in_base("pip", "ubuntu:24.04"),
///     Err(Rule::ToolNotInBase { tool: "pip", image: "ubuntu:24.04".into() })
/// );
/// ```
pub fn tool_in_base(tool: &'static str, image: &str) -> Result<(), Rule> {
    let Some((distro, _)) = crate::Distro::of(image) else { return Ok(()) };
    let missing = TOOLS_MISSING.iter().find(|(keyword, _)| *keyword == distro.keyword).map_or(&[][..], |(_, t)| t);
    if missing.contains(&tool) { Err(Rule::ToolNotInBase { tool, image: image.to_owned() }) } else { Ok(()) }
}

/// [`Rule::ToolNotInBase`]'s help: a base that has the tool. (Installing `pip` first is no
/// advice: Debian's and Ubuntu's own `pip` refuses to install system-wide, PEP 668.)
fn tool_help(tool: &str, image: &str) -> String {
    let base = match tool {
        "pip" => "from python;",
        "npm" => "from node;",
        _ => "from bun;",
    };
    let manager = crate::Distro::package_manager_of(image).unwrap_or("apt-get");
    let first = match tool {
        "npm" => format!(", or install it first: `run \"{}nodejs npm\" (user = \"root\");`", install_command(manager)),
        _ => String::new(),
    };
    format!("start from a base that has `{tool}`, e.g. `{base}`{first}")
}

/// How `manager` installs packages non-interactively, up to the package names.
pub fn install_command(manager: &str) -> &'static str {
    match manager {
        "apk" => "apk add --no-cache ",
        "dnf" => "dnf install -y ",
        "pacman" => "pacman -S --noconfirm ",
        _ => "apt-get install -y ",
    }
}

/// A package install against the base image: `command` (an `apt install` statement, written
/// `apt install`, or a `run` command line) must use the package manager the base `image` has.
/// Bases whose distro is unknown ([`Distro::package_manager_of`](crate::Distro::package_manager_of)
/// is `None`) are not checked, nor is a command after `sudo` or one that reads only.
/// ```
/// use sandbox_template_runtime::rules::{package_manager_fits, Rule};
/// assert!(package_manager_fits("apt install", "debian:stable").is_ok());
/// assert!(package_manager_fits("apk add --no-cache curl", "alpine:3.20").is_ok());
/// assert!(package_manager_fits("apt-get install -y curl", "ghcr.io/org/app:1.0").is_ok());
/// assert_eq!(
///     package_manager_fits("apt-get update && apt-get install -y curl", "alpine:3.20"),
///     Err(Rule::WrongPackageManager {
///         command: "apt-get update".into(),
///         needs: "apt-get",
///         image: "alpine:3.20".into(),
///         has: "apk",
///     })
/// );
/// ```
pub fn package_manager_fits(command: &str, image: &str) -> Result<(), Rule> {
    let Some(has) = crate::Distro::package_manager_of(image) else { return Ok(()) };
    let found = if command == "apt install" {
        Some(("apt install".to_owned(), "apt-get"))
    } else {
        shell_commands(command).iter().find_map(|words| {
            let used = package_install(words)?;
            let needs = match used.split(' ').next()? {
                "apt-get" | "apt" => "apt-get",
                "dnf" | "yum" | "microdnf" => "dnf",
                other => ["apk", "pacman"].into_iter().find(|m| *m == other)?,
            };
            (needs != has).then_some((used, needs))
        })
    };
    match found {
        Some((command, needs)) if needs != has => {
            Err(Rule::WrongPackageManager { command, needs, image: image.to_owned(), has })
        }
        _ => Ok(()),
    }
}

/// A path used in the image (workdir, destination, mkdir, ...): not empty, no NUL.
pub fn path(what: &'static str, path: &str) -> Result<(), Rule> {
    if path.is_empty() {
        return Err(Rule::EmptyPath { what });
    }
    if path.contains('\0') {
        return Err(Rule::NulInPath { what, path: path.to_owned() });
    }
    Ok(())
}

/// A path to remove: a [`path`], and one `rm` can remove: not `/` (nor `//`, `/.`, `/..`), and
/// not ending in `.` or `..`, which `rm` refuses (GNU's and busybox's alike), failing the build.
/// ```
/// use sandbox_template_runtime::rules::{removable, Rule};
/// assert!(removable("/tmp/build").is_ok());
/// assert_eq!(removable("/"), Err(Rule::Unremovable("/".into())));
/// assert!(removable("/app/..").is_err() && removable(".").is_err() && removable("cache/./").is_err());
/// assert!(removable("/..x").is_ok());
/// ```
pub fn removable(path: &str) -> Result<(), Rule> {
    self::path("path to remove", path)?;
    let root = path.starts_with('/') && path.split('/').all(|part| matches!(part, "" | "." | ".."));
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    if root || matches!(last, "." | "..") { Err(Rule::Unremovable(path.to_owned())) } else { Ok(()) }
}

/// A copy source: a non-empty relative path (or glob) that stays inside the context folder.
///
/// Follows the SDKs' check: `normalize(src)` must not be `..` nor start with `../`.
/// ```
/// use sandbox_template_runtime::rules::{copy_source, Rule};
/// assert!(copy_source("app/main.py").is_ok());
/// assert!(matches!(copy_source("/etc/passwd"), Err(Rule::AbsoluteSource(_))));
/// assert!(matches!(copy_source("app/../../x"), Err(Rule::EscapingSource(_))));
/// ```
pub fn copy_source(src: &str) -> Result<(), Rule> {
    path("copy source", src)?;
    if src.starts_with('/') {
        return Err(Rule::AbsoluteSource(src.to_owned()));
    }
    let mut depth: i64 = 0;
    for part in src.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Err(Rule::EscapingSource(src.to_owned()));
                }
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_key(key: &str) -> Result<(), Rule> {
    let mut chars = key.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok { Ok(()) } else { Err(Rule::InvalidEnvKey(key.to_owned())) }
}

/// The keys of one `set_envs` call: each valid, none repeated.
pub fn env_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<Rule> {
    let mut seen = std::collections::HashSet::new();
    let mut errors = Vec::new();
    for key in keys {
        if let Err(e) = env_key(key) {
            errors.push(e);
        } else if !seen.insert(key) {
            errors.push(Rule::DuplicateEnvKey(key.to_owned()));
        }
    }
    errors
}

/// An env value for `provider`: on E2B, which sets values as written, it must not refer to a
/// variable (`$NAME`, `${NAME}`), unless it is `literal` (the text is meant). Novita expands such
/// references, so every value passes there.
///
/// Only a `$` followed by a letter, `_` or `{` is a reference; `$$`, `$1`, a trailing `$` or
/// `$ ` are plain text on E2B and pass. A backslash does not escape: E2B keeps `\$HOME` as
/// written, backslash included, so it is refused like `$HOME`.
/// ```
/// use sandbox_template_runtime::Provider;
/// use sandbox_template_runtime::rules::{env_value, Rule};
/// assert!(matches!(
///     env_value(Provider::E2b, false, "PATH", "/opt/bin:$PATH"),
///     Err(Rule::EnvReference { reference, .. }) if reference == "$PATH"
/// ));
/// assert!(env_value(Provider::E2b, true, "PATH", "/opt/bin:$PATH").is_ok());
/// assert!(env_value(Provider::Novita, false, "PATH", "/opt/bin:$PATH").is_ok());
/// assert!(env_value(Provider::E2b, false, "PRICE", "5$").is_ok());
/// ```
pub fn env_value(provider: Provider, literal: bool, key: &str, value: &str) -> Result<(), Rule> {
    if literal || provider != Provider::E2b {
        return Ok(());
    }
    match env_reference(value) {
        Some(reference) => {
            Err(Rule::EnvReference { key: key.to_owned(), value: value.to_owned(), reference: reference.to_owned() })
        }
        None => Ok(()),
    }
}

/// The PATH most images declare (Docker's default): what `$PATH` stands for in a value written
/// out in full.
const USUAL_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// For [`Rule::EnvReference`]'s help: `, e.g. `FULL`` with `$PATH` written out, and why it
/// matters, when the value extends PATH; empty otherwise.
pub fn env_fix_example(key: &str, value: &str, reference: &str) -> String {
    if !matches!(reference, "$PATH" | "${PATH}") {
        return String::new();
    }
    let full = value.replacen(reference, USUAL_PATH, 1);
    let why = if key == "PATH" {
        " (a PATH holding the text `$PATH` makes every later command fail with exit 127)"
    } else {
        ""
    };
    format!(", e.g. `{full}` with the image's own PATH{why}")
}

/// The first variable reference in `value`: `$NAME` or `${...}` (up to its `}`, or the end).
pub fn env_reference(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    for (i, _) in value.match_indices('$') {
        let rest = &bytes[i + 1..];
        match rest.first() {
            Some(b'{') => {
                let end = rest.iter().position(|&b| b == b'}').map_or(value.len(), |p| i + 1 + p + 1);
                return Some(&value[i..end]);
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let len = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
                return Some(&value[i..i + 1 + len]);
            }
            _ => {}
        }
    }
    None
}

/// A base-image registry the provider can pull from. Huawei Cloud (SWR) and Oracle Cloud (OCIR)
/// registries exist only in novita-sandbox (`fromHuaweiCloudRegistry`, `fromOCIRegistry`); e2b
/// has neither, so E2B would get a registry `type` it does not know. `kind` is
/// [`RegistryCredentials::kind`](crate::RegistryCredentials::kind).
///
/// ```
/// use sandbox_template_runtime::{rules::registry_kind, Provider, Rule};
/// assert!(matches!(registry_kind(Provider::E2b, "huawei"), Err(Rule::NotOnProvider { .. })));
/// assert!(registry_kind(Provider::Novita, "huawei").is_ok());
/// assert!(registry_kind(Provider::E2b, "aws").is_ok());
/// ```
pub fn registry_kind(provider: Provider, kind: &str) -> Result<(), Rule> {
    let instead = "build it for Novita (`provider novita;` before `from`, `--provider novita`, \
                   `.for_provider(Provider::Novita)`), or push the image to a registry E2B pulls from: `from aws`, \
                   `from gcp`, or an image with a username and password (`from_image_with_credentials`)";
    match (provider, kind) {
        (Provider::E2b, "huawei") => Err(Rule::NotOnProvider {
            provider,
            feature: "Huawei Cloud registry (`from huawei`, `from_huawei_registry`): only novita-sandbox has one",
            instead,
        }),
        (Provider::E2b, "oci") => Err(Rule::NotOnProvider {
            provider,
            feature: "Oracle Cloud registry (`from oci`, `from_oci_registry`): only novita-sandbox has one",
            instead,
        }),
        _ => Ok(()),
    }
}

/// A base image on the provider. novita-sandbox builds on Debian-family images only: it has no
/// `fromAlpineImage`, `fromFedoraImage` or `fromArchImage`, and when it reads an image's history
/// and finds Alpine, an RPM distro or Arch it reports the image as unusable (`unsupportedBase`),
/// since the build would fail later on the missing `apt-get`. Images of unknown distro pass.
///
/// ```
/// use sandbox_template_runtime::{rules::base_on_provider, Provider, Rule};
/// assert!(matches!(base_on_provider(Provider::Novita, "alpine:3.24"), Err(Rule::NotOnProvider { .. })));
/// assert!(matches!(base_on_provider(Provider::Novita, "python:3.12-alpine"), Err(Rule::NotOnProvider { .. })));
/// assert!(base_on_provider(Provider::Novita, "python:3.12").is_ok());
/// assert!(base_on_provider(Provider::Novita, "ghcr.io/acme/app:1").is_ok());
/// assert!(base_on_provider(Provider::E2b, "alpine:3.24").is_ok());
/// ```
pub fn base_on_provider(provider: Provider, image: &str) -> Result<(), Rule> {
    if provider == Provider::Novita
        && matches!(crate::Distro::package_manager_of(image), Some("apk" | "dnf" | "pacman"))
    {
        return Err(Rule::NotOnProvider {
            provider,
            feature: "Alpine, Fedora or Arch base: novita-sandbox builds on Debian-family images only (it has no \
                      `fromAlpineImage`, `fromFedoraImage` or `fromArchImage`)",
            instead: "start from a Debian-based image (`from debian`, `from ubuntu`, `from python`, `from node`), \
                      or build it for E2B (`provider e2b;`, the default)",
        });
    }
    Ok(())
}

/// A copy step's `gzip` option. novita-sandbox has no such option: it always compresses the
/// upload and never sends the key, so `gzip = false` cannot be honoured on Novita. (`gzip = true`
/// is what Novita does anyway; the JSON leaves the key out, as novita-sandbox does.)
///
/// ```
/// use sandbox_template_runtime::{rules::copy_gzip, Provider, Rule};
/// assert!(matches!(copy_gzip(Provider::Novita, Some(false)), Err(Rule::NotOnProvider { .. })));
/// assert!(copy_gzip(Provider::Novita, Some(true)).is_ok());
/// assert!(copy_gzip(Provider::E2b, Some(false)).is_ok());
/// ```
pub fn copy_gzip(provider: Provider, gzip: Option<bool>) -> Result<(), Rule> {
    if provider == Provider::Novita && gzip == Some(false) {
        return Err(Rule::NotOnProvider {
            provider,
            feature: "`gzip = false` copy option: novita-sandbox always compresses uploads",
            instead: "remove `gzip = false` (builder: `.gzip(false)`), or build it for E2B (`provider e2b;`, \
                      the default)",
        });
    }
    Ok(())
}

/// A pre-boot script ([`Template::set_patch_cmd`](crate::Template::set_patch_cmd), novita-sandbox's
/// `setPatchCmd`): e2b has no such field, so E2B would never run it.
///
/// ```
/// use sandbox_template_runtime::{rules::patch_cmd, Provider, Rule};
/// assert!(matches!(patch_cmd(Provider::E2b), Err(Rule::NotOnProvider { .. })));
/// assert!(patch_cmd(Provider::Novita).is_ok());
/// ```
pub fn patch_cmd(provider: Provider) -> Result<(), Rule> {
    if provider == Provider::E2b {
        return Err(Rule::NotOnProvider {
            provider,
            feature: "pre-boot script (`set_patch_cmd`, the DSL's `patch`, novita-sandbox's `setPatchCmd`)",
            instead: "run the script in a build step (`run`, `run_cmd`), or build it for Novita \
                      (`provider novita;` before `from`, `.for_provider(Provider::Novita)`)",
        });
    }
    Ok(())
}

/// The build option `min_free_disk_mb`
/// ([`CloudBuildOptions::min_free_disk_mb`](crate::cloud::CloudBuildOptions)): e2b's
/// `minFreeDiskMb`. novita-sandbox's build has no such option and never sends it, so a minimum
/// asked for on Novita would not be kept.
///
/// ```
/// use sandbox_template_runtime::{rules::min_free_disk_mb, Provider, Rule};
/// assert!(matches!(min_free_disk_mb(Provider::Novita, Some(512)), Err(Rule::NotOnProvider { .. })));
/// assert!(min_free_disk_mb(Provider::E2b, Some(512)).is_ok());
/// assert!(min_free_disk_mb(Provider::Novita, None).is_ok());
/// ```
pub fn min_free_disk_mb(provider: Provider, mb: Option<u32>) -> Result<(), Rule> {
    if provider == Provider::Novita && mb.is_some() {
        return Err(Rule::NotOnProvider {
            provider,
            feature: "minimum free disk build option (`min_free_disk_mb`, `--min-free-disk-mb`): novita-sandbox \
                      has no `minFreeDiskMb`",
            instead: "leave it out for Novita, or build on E2B",
        });
    }
    Ok(())
}

/// `add_mcp_server` (the DSL's `mcp server`) against the base: the SDKs pull MCP servers with the
/// `mcp-gateway` template's tool, so the base must be that template. `base_template` is the name
/// of a `from_template` base, `None` for any other base.
///
/// ```
/// use sandbox_template_runtime::rules::{mcp_base, Rule};
/// assert!(mcp_base(Some("mcp-gateway")).is_ok());
/// assert_eq!(mcp_base(Some("my-base")), Err(Rule::McpWrongBase));
/// assert_eq!(mcp_base(None), Err(Rule::McpWrongBase));
/// ```
pub fn mcp_base(base_template: Option<&str>) -> Result<(), Rule> {
    if base_template == Some("mcp-gateway") { Ok(()) } else { Err(Rule::McpWrongBase) }
}

/// An MCP server name for `add_mcp_server` (the DSL's `mcp server`): one the provider's official
/// SDK lists ([`Provider::mcp_servers`], the SDK's `McpServerName` type). Names are matched
/// exactly, as the SDK's type does (`awsDocumentation`, not `aws-documentation`).
///
/// This goes beyond the SDKs at run time: TypeScript checks the names only when it compiles, and
/// the Python SDK's `add_mcp_server` takes any `str`; both put the names unchecked into the step's
/// `mcp-gateway pull NAME...`, which runs in the build. The SDKs' lists are generated from a schema
/// of the servers (`mcp-server.json`), so a name outside them is, as far as the SDK knows, no
/// server the gateway has; what `mcp-gateway pull` does with it is not in the SDKs' source (the
/// gateway ships inside the `mcp-gateway` template), so at best the build fails at that step, at
/// worst the sandbox lacks the server. This rule makes the typo an error before the build instead.
///
/// ```
/// use sandbox_template_runtime::{rules::mcp_server_name, Provider, Rule};
/// assert!(mcp_server_name(Provider::E2b, "brave").is_ok());
/// let rule = mcp_server_name(Provider::E2b, "brvae").unwrap_err();
/// assert_eq!(rule, Rule::UnknownMcpServer { provider: Provider::E2b, name: "brvae".into() });
/// assert_eq!(rule.help().as_deref(), Some("did you mean `brave`?"));
/// // Only e2b lists it.
/// assert!(mcp_server_name(Provider::Novita, "n8n").is_err());
/// ```
pub fn mcp_server_name(provider: Provider, name: &str) -> Result<(), Rule> {
    if provider.mcp_servers().contains(&name) {
        Ok(())
    } else {
        Err(Rule::UnknownMcpServer { provider, name: name.to_owned() })
    }
}

/// [`Rule::UnknownMcpServer`]'s help: the listed name written another way (another case, `-` or
/// `_` between the words as in Docker's MCP catalog), else the other provider's SDK when it lists
/// the name, else the nearest listed name, else where the list is.
fn mcp_server_help(provider: Provider, name: &str) -> String {
    let servers = provider.mcp_servers();
    let folded = |s: &str| s.chars().filter(|c| !matches!(c, '-' | '_')).collect::<String>().to_ascii_lowercase();
    if let Some(same) = servers.iter().find(|s| folded(s) == folded(name)) {
        return format!("did you mean `{same}`?");
    }
    let other = match provider {
        Provider::E2b => Provider::Novita,
        Provider::Novita => Provider::E2b,
    };
    // Before "did you mean": `n8n` on Novita is E2B's server, not a misspelt `neon`.
    if other.mcp_servers().contains(&name) {
        return format!(
            "only {}'s SDK lists `{name}`: build it for {} (`provider {other};` before `from`), or pick a server {} \
             has",
            provider_title(other),
            provider_title(other),
            provider_title(provider),
        );
    }
    if let Some(best) = crate::suggest::did_you_mean(name, servers.iter().copied()) {
        return format!("did you mean `{best}`?");
    }
    format!(
        "write a name {}'s SDK lists (its `McpServerName` type), e.g. `exa`, `brave`, `github`; \
         `Provider::{provider:?}.mcp_servers()` has them all",
        provider_title(provider)
    )
}

/// The dev container steps (`beta_dev_container_prebuild`, `beta_set_dev_container_start`, the
/// DSL's `devcontainer prebuild|start`) against the base: they need the `devcontainer`
/// template's tools, as in the SDKs. `base_template` as in [`mcp_base`].
///
/// ```
/// use sandbox_template_runtime::rules::{dev_container_base, Rule};
/// assert!(dev_container_base(Some("devcontainer")).is_ok());
/// assert_eq!(dev_container_base(None), Err(Rule::DevContainerWrongBase));
/// ```
pub fn dev_container_base(base_template: Option<&str>) -> Result<(), Rule> {
    if base_template == Some("devcontainer") { Ok(()) } else { Err(Rule::DevContainerWrongBase) }
}

/// A port: 1..=65535.
pub fn port(port: u32) -> Result<(), Rule> {
    if (1..=65535).contains(&port) { Ok(()) } else { Err(Rule::InvalidPort(port)) }
}

/// An HTTP status for a URL ready check: 100..=599.
pub fn http_status(status: u32) -> Result<(), Rule> {
    if (100..=599).contains(&status) { Ok(()) } else { Err(Rule::InvalidStatus(status)) }
}

/// A file mode: at most `0o7777`.
pub fn file_mode(mode: u32) -> Result<(), Rule> {
    if mode <= 0o7777 { Ok(()) } else { Err(Rule::InvalidMode(mode)) }
}

/// A package name for pip/npm/bun/apt: non-empty, no whitespace, not a flag.
pub fn package_name(name: &str) -> Result<(), Rule> {
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(Rule::InvalidPackageName(name.to_owned()));
    }
    if name.starts_with('-') {
        return Err(Rule::PackageLooksLikeFlag(name.to_owned()));
    }
    Ok(())
}

/// A user (`name` or `name:group`): non-empty, no whitespace.
pub fn user(user: &str) -> Result<(), Rule> {
    if user.is_empty() || user.chars().any(|c| c.is_whitespace() || c == '\0') {
        return Err(Rule::InvalidUser(user.to_owned()));
    }
    Ok(())
}

/// The user template steps run as when the template names none, on E2B and Novita alike (their
/// build service creates it, with a home folder `/home/user` and passwordless `sudo`). Docker's
/// default, `root`, is not the cloud's.
pub const DEFAULT_USER: &str = "user";

/// Whether `user` (a [`user`]-valid name, `name:group` or a numeric ID) is root.
/// ```
/// use sandbox_template_runtime::rules::is_root;
/// assert!(is_root("root") && is_root("0") && is_root("root:wheel"));
/// assert!(!is_root("user") && !is_root("1000") && !is_root("rooty"));
/// ```
pub fn is_root(user: &str) -> bool {
    matches!(user.split(':').next(), Some("root" | "0"))
}

/// A `run` command executed as `user`: refused when one of its commands (each command of a
/// `&&`, `||`, `;`, `|` or newline list) starts with a system package manager's install, update
/// or removal and `user` is not root, because the cloud runs it as that user and the package
/// manager fails there with "permission denied".
///
/// Recognized: `apt-get`/`apt` (`install`, `update`, `upgrade`, `dist-upgrade`, `full-upgrade`,
/// `remove`, `purge`, `autoremove`, `reinstall`), `dnf`/`yum`/`microdnf` (`install`, `update`,
/// `upgrade`, `remove`, `erase`, `reinstall`, `makecache`, `groupinstall`), `apk` (`add`, `del`,
/// `update`, `upgrade`, `fix`) and `pacman` (`-S…`, `-U…`, `-R…`), also by absolute path and after
/// `VAR=value` assignments. A command after `sudo` is accepted: the cloud's default user has
/// passwordless `sudo`.
/// ```
/// use sandbox_template_runtime::rules::{package_install_as, Rule};
/// assert!(package_install_as("apt-get install -y curl", "root").is_ok());
/// assert!(package_install_as("sudo apt-get install -y curl", "user").is_ok());
/// assert!(package_install_as("echo 'apt-get install' > notes", "user").is_ok());
/// let err = package_install_as("cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get -y install curl", "user");
/// assert_eq!(
///     err,
///     Err(Rule::PackageManagerNotRoot { command: "apt-get install".into(), user: "user".into() })
/// );
/// ```
pub fn package_install_as(command: &str, user: &str) -> Result<(), Rule> {
    if is_root(user) {
        return Ok(());
    }
    match shell_commands(command).iter().find_map(|words| package_install(words)) {
        Some(command) => Err(Rule::PackageManagerNotRoot { command, user: user.to_owned() }),
        None => Ok(()),
    }
}

/// `manager subcommand` when `words` (one simple command) installs, updates or removes system
/// packages.
fn package_install(words: &[String]) -> Option<String> {
    // Shell keywords and assignments before the command name; `sudo` makes it root's business.
    let mut rest = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| matches!(*w, "then" | "do" | "else" | "!" | "exec") || is_assignment(w));
    let program = rest.next()?;
    let name = program.rsplit('/').next().unwrap_or(program);
    let subcommands: &[&str] = match name {
        "apt-get" | "apt" => &[
            "install",
            "update",
            "upgrade",
            "dist-upgrade",
            "full-upgrade",
            "remove",
            "purge",
            "autoremove",
            "reinstall",
        ],
        "dnf" | "yum" | "microdnf" => {
            &["install", "update", "upgrade", "remove", "erase", "reinstall", "makecache", "groupinstall"]
        }
        "apk" => &["add", "del", "update", "upgrade", "fix"],
        "pacman" => {
            // The operation is a flag: `-S`, `-Syu`, `-U`, `-R`, `--sync`, ...
            let op = rest.find(|w| w.starts_with('-'))?;
            let changes = (op.starts_with('-') && !op.starts_with("--") && op[1..].starts_with(['S', 'U', 'R']))
                || matches!(op, "--sync" | "--upgrade" | "--remove");
            // `-Ss`/`-Si`/`-Q...` only read.
            let reads = op.starts_with("-S") && op[2..].contains(['s', 'i', 'l', 'g', 'p']);
            return (changes && !reads).then(|| format!("pacman {op}"));
        }
        _ => return None,
    };
    // The subcommand is the first word that is not a flag (or a flag's value: `-o X`, `-c X`, `-t X`).
    let mut takes_value = false;
    for word in rest {
        if std::mem::take(&mut takes_value) {
            continue;
        }
        if word.starts_with('-') {
            takes_value = matches!(word, "-o" | "-c" | "-t" | "-X" | "--repo" | "--setopt");
            continue;
        }
        return subcommands.contains(&word).then(|| format!("{name} {word}"));
    }
    None
}

/// `NAME=value`.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| env_key(name).is_ok())
}

/// The simple commands of a shell command line, as words: split at unquoted `;`, `&`, `|`,
/// newlines and parentheses, then at whitespace. Quotes are removed; nothing is expanded. Enough to
/// see which program each command starts with, not a shell parser.
fn shell_commands(line: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                // A backslash-newline continues the line.
                match chars.next() {
                    Some('\n') | None => {}
                    Some(next) => {
                        word.push(next);
                        in_word = true;
                    }
                }
            }
            (None, c) if c.is_whitespace() && c != '\n' => {
                if std::mem::take(&mut in_word) {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, ';' | '&' | '|' | '\n' | '(' | ')' | '{' | '}') => {
                if std::mem::take(&mut in_word) {
                    words.push(std::mem::take(&mut word));
                }
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if !words.is_empty() {
        commands.push(words);
    }
    commands
}

/// A command: not empty.
pub fn command(cmd: &str) -> Result<(), Rule> {
    if cmd.trim().is_empty() { Err(Rule::EmptyCommand) } else { Ok(()) }
}

/// An image reference, by Docker's reference grammar
/// (`[host[:port]/]path[:tag][@algorithm:hex]`, lower-case path components); see
/// [`ImageRef`](crate::ImageRef), which splits it into its parts.
/// ```
/// use sandbox_template_runtime::rules::image_reference;
/// assert!(image_reference("python:3.12").is_ok());
/// assert!(image_reference("ghcr.io/acme/app:1.2.3").is_ok());
/// assert!(image_reference("localhost:5000/app@sha256:0123456789abcdef0123456789abcdef").is_ok());
/// assert!(image_reference("Python:3").is_err());
/// assert!(image_reference("app:").is_err());
/// ```
pub fn image_reference(reference: &str) -> Result<(), Rule> {
    crate::ImageRef::parse(reference).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources() {
        for ok in ["a", "./a", "a/b/../c", "**/*.py", ".", "a/.."] {
            assert!(copy_source(ok).is_ok(), "{ok}");
        }
        assert_eq!(copy_source(""), Err(Rule::EmptyPath { what: "copy source" }));
        assert!(matches!(copy_source(".."), Err(Rule::EscapingSource(_))));
        assert!(matches!(copy_source("a/../../b"), Err(Rule::EscapingSource(_))));
        assert!(matches!(copy_source("a\0b"), Err(Rule::NulInPath { .. })));
    }

    #[test]
    fn env_keys_reject_bad_and_repeated_names() {
        assert!(env_key("APP_ENV").is_ok());
        assert!(env_key("_x1").is_ok());
        for bad in ["", "1A", "A-B", "A B", "É"] {
            assert!(env_key(bad).is_err(), "{bad}");
        }
        assert_eq!(env_keys(["A", "B", "A"]), vec![Rule::DuplicateEnvKey("A".into())]);
    }

    #[test]
    fn env_references_are_found_where_e2b_would_keep_them() {
        for (value, reference) in [
            ("/opt/bin:$PATH", "$PATH"),
            ("${HOME}/bin", "${HOME}"),
            ("${X:-default}", "${X:-default}"),
            ("a$_b c", "$_b"),
            ("$$HOME", "$HOME"),
            ("\\$HOME", "$HOME"),
            ("${unclosed", "${unclosed"),
        ] {
            assert_eq!(env_reference(value), Some(reference), "{value}");
        }
        for plain in ["", "5$", "$$", "$1", "a $ b", "price: $9", "'single' \"double\" `tick`"] {
            assert_eq!(env_reference(plain), None, "{plain}");
        }
    }

    #[test]
    fn image_references() {
        for ok in [
            "python",
            "python:3.12-slim",
            "e2bdev/base",
            "oven/bun:1.1",
            "ghcr.io/acme/app:1.2.3",
            "localhost:5000/a/b",
            "1.dkr.ecr.us-west-2.amazonaws.com/a:b",
            "registry.example.com:443/x__y/z-w.v:latest",
            "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}: {:?}", image_reference(ok));
        }
        for bad in [
            "",
            "Python",
            "a:",
            "a::b",
            "a/",
            "/a",
            "a//b",
            "a b",
            "a:-x",
            "a@sha256:xyz",
            "-a",
            "a..b",
            "ex ample.com/a",
        ] {
            assert!(image_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert!(port(0).is_err() && port(65536).is_err() && port(8000).is_ok());
        assert!(http_status(99).is_err() && http_status(600).is_err() && http_status(204).is_ok());
        assert!(file_mode(0o7777).is_ok() && file_mode(0o10000).is_err());
    }

    #[test]
    fn package_installs_need_root() {
        let refused = |cmd: &str| match package_install_as(cmd, "user") {
            Err(Rule::PackageManagerNotRoot { command, user }) if user == "user" => command,
            other => panic!("`{cmd}`: {other:?}"),
        };
        assert_eq!(refused("apt-get update"), "apt-get update");
        assert_eq!(refused("apt-get update && apt-get install -y curl"), "apt-get update");
        assert_eq!(refused("set -e; apt install -y git"), "apt install");
        assert_eq!(refused("/usr/bin/apt-get -qq -o Dpkg::Use-Pty=0 install x"), "apt-get install");
        assert_eq!(refused("DEBIAN_FRONTEND=noninteractive apt-get upgrade -y"), "apt-get upgrade");
        assert_eq!(refused("dnf -y install gcc"), "dnf install");
        assert_eq!(refused("yum makecache"), "yum makecache");
        assert_eq!(refused("microdnf update"), "microdnf update");
        assert_eq!(refused("apk --no-cache add curl"), "apk add");
        assert_eq!(refused("pacman -Syu --noconfirm"), "pacman -Syu");
        assert_eq!(refused("cd /src &&\\\n  apk del build-base"), "apk del");
        assert_eq!(refused("if true; then apt-get install -y x; fi"), "apt-get install");
        for fine in [
            "apt-get --version",
            "apt list --installed",
            "apk info",
            "dnf search gcc",
            "pacman -Ss vim",
            "pacman -Q",
            "sudo apt-get install -y curl",
            "echo \"apt-get install x; apk add y\"",
            "echo 'dnf install' | tee notes",
            "pip install flask",
            "npm install",
            "my-apt-get install",
        ] {
            assert_eq!(package_install_as(fine, "user"), Ok(()), "{fine}");
        }
        for root in ["root", "0", "root:root", "0:0"] {
            assert_eq!(package_install_as("apt-get install -y x", root), Ok(()), "{root}");
        }
        assert!(package_install_as("apk add x", "guest").unwrap_err().to_string().contains("runs as `guest`"));
    }

    #[test]
    fn every_rule_has_help() {
        assert!(Rule::SecretLiteral.help().unwrap().contains("env("));
        assert!(package_name("--upgrade").unwrap_err().help().unwrap().contains("options"));
    }
}
