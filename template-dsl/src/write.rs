//! A runtime [`Template`] written back as DSL text (a `.tmpl` file): what `sandbox-template
//! import` does with a Dockerfile or with a build request JSON of an official SDK.
//!
//! Every step becomes the statement that makes it again: package installs, `git clone` and the
//! file operations that a request carries as `RUN` commands in the SDKs' exact form become
//! `pip install`, `apt install`, `git clone`, `mkdir`, `remove`, … with their options; any other
//! command stays a `run`. A statement is only chosen when the DSL reads it back into the same
//! wire step, and the whole text is read back and compared with the template before it is
//! returned, so the text either means the template or the writer says what it cannot write
//! (never a silent loss).
//!
//! Strings are written as the DSL's lexer reads them: a raw string (`r#"..."#`) when that avoids
//! escapes, an escaped string literal otherwise.
//!
//! ```
//! use sandbox_template_dsl::write::{WriteOptions, to_tmpl};
//! use sandbox_template_runtime::{Template, wait_for_port};
//!
//! let template = Template::new()
//!     .from_python_image("3.12")
//!     .run_cmd_with("pip install fastapi", sandbox_template_runtime::RunOptions::new().user("root"))
//!     .set_start_cmd("uvicorn main:app", wait_for_port(8000));
//! let text = to_tmpl(&template, &WriteOptions::new()).unwrap();
//! assert_eq!(text, "from python \"3.12\";\npip install \"fastapi\";\nstart \"uvicorn main:app\" ready port 8000;\n");
//! ```

use std::path::Path;
use std::time::Duration;

use sandbox_template_runtime::dockerfile::{DockerfileError, DockerfileOptions, convert};
use sandbox_template_runtime::wire::{BuildRequest, StepError, WireStep};
use sandbox_template_runtime::{
    Base, CopyStep, DISTROS, Provider, ReadyCmd, RegistryCredentials, Secret, SourceLocation, Step, StepKind, Template,
};

use crate::tmpl::{self, TmplError};

/// Options of [`to_tmpl`] and the importers.
///
/// ```
/// use sandbox_template_dsl::write::WriteOptions;
/// let options = WriteOptions::new().context("../app");
/// assert_eq!(options.context.as_deref(), Some("../app"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Writes `context "DIR";`: the folder `copy` sources are read from, relative to the `.tmpl`
    /// file (without it, the file's own folder).
    pub context: Option<String>,
}

impl WriteOptions {
    /// No `context` header.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `context "DIR";` (relative to the `.tmpl` file).
    pub fn context(mut self, dir: impl Into<String>) -> Self {
        self.context = Some(dir.into());
        self
    }
}

/// An imported template: the `.tmpl` text and what the user should know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Imported {
    /// The `.tmpl` text.
    pub text: String,
    /// Things that are not in the text on purpose (skipped Dockerfile instructions, a step a Novita
    /// build adds by itself), one sentence each.
    pub notes: Vec<String>,
}

/// Why a template cannot be written as DSL text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A part of the template the DSL has no form for.
    #[error("{what}: {message}\n  help: {help}")]
    Unsupported {
        /// The part: `base`, `step 3`, `startCmd`, `preBootScript`, ...
        what: String,
        /// What the DSL cannot express.
        message: String,
        /// What to do instead.
        help: String,
    },
    /// The build request does not describe a template.
    #[error("cannot read the build request: {0}")]
    Request(#[from] StepError),
    /// The Dockerfile cannot be converted.
    #[error(transparent)]
    Dockerfile(#[from] DockerfileError),
    /// The written text is refused by the DSL's checks (a value that a rule refuses, such as an
    /// empty command).
    #[error("the template has values the DSL refuses; fix them in the input:\n{0}")]
    Check(#[source] TmplError),
    /// The written text reads back into something else: a bug of this writer.
    #[error("{what}: `{statement}` does not read back into the same step; please report this as a bug")]
    NotReproduced {
        /// The part: `base`, `step 3`, ...
        what: String,
        /// The statement written for it.
        statement: String,
    },
}

fn unsupported(what: impl Into<String>, message: impl Into<String>, help: impl Into<String>) -> WriteError {
    WriteError::Unsupported { what: what.into(), message: message.into(), help: help.into() }
}

/// `template` as `.tmpl` text: the header, the base, one statement per step, the start command.
///
/// Fails when the DSL cannot express a part (a literal registry password, a start command
/// without a ready check, a cached step after a rebuilt one), naming the part and what to do.
///
/// ```
/// use sandbox_template_dsl::write::{WriteOptions, to_tmpl};
/// use sandbox_template_runtime::{GitCloneOptions, Template};
///
/// let t = Template::new().from_base_image().git_clone_with("https://x/y.git", GitCloneOptions::new().depth(1));
/// let text = to_tmpl(&t, &WriteOptions::new()).unwrap();
/// assert_eq!(text, "from base;\ngit clone \"https://x/y.git\" (depth = 1);\n");
/// ```
pub fn to_tmpl(template: &Template, options: &WriteOptions) -> Result<String, WriteError> {
    write(template, template.steps(), options)
}

/// [`to_tmpl`] of `template` with only `steps` (a prefix of its steps: a Novita request's env
/// step is left out).
fn write(template: &Template, steps: &[Step], options: &WriteOptions) -> Result<String, WriteError> {
    let mut out = String::new();
    if let Some(dir) = &options.context {
        out.push_str(&format!("context {};\n", lit(dir)));
    }
    if !template.ignore_patterns().is_empty() {
        out.push_str(&format!("ignore {};\n", list(template.ignore_patterns())));
    }
    if template.provider() == Provider::Novita {
        out.push_str("provider novita;\n");
    }
    if template.is_forced() {
        out.push_str("skip_cache;\n");
    }
    let base = base_line(template)?;
    out.push_str(&base);
    out.push('\n');
    let mut skipping = template.is_forced();
    let mut statements = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let what = format!("step {}", i + 1);
        let by_upload = matches!(&step.kind, StepKind::Copy(c) if c.force_upload == Some(true));
        if step.force && !skipping && !by_upload {
            out.push_str("skip_cache;\n");
            skipping = true;
        } else if !step.force && skipping {
            return Err(unsupported(
                what,
                "is taken from the build cache after a step that is rebuilt (`force`), and the DSL's \
                 `skip_cache;` rebuilds every step after it",
                "set `force` on every step after the first rebuilt one, or on none of them",
            ));
        }
        let statement = statement(step, &base, template.provider())?;
        out.push_str(&statement);
        out.push('\n');
        statements.push(statement);
    }
    if let Some(script) = template.pre_boot_script() {
        out.push_str(&format!("patch {};\n", lit(script)));
    }
    match (dev_container_start(template), template.start_cmd(), template.ready_cmd()) {
        (Some(dir), ..) => out.push_str(&format!("devcontainer start {};\n", lit(&dir))),
        (None, Some(command), Some(ready)) => {
            out.push_str(&format!("start {} ready {};\n", lit(command), ready_form(ready)))
        }
        (None, None, Some(ready)) => out.push_str(&format!("ready {};\n", ready_form(ready))),
        (None, Some(_), None) => {
            return Err(unsupported(
                "startCmd",
                "a start command without a ready check: the DSL's `start` always has one",
                "add a ready check to the input (e.g. `readyCmd: \"sleep 20\"`, which the SDKs use for Dockerfiles)",
            ));
        }
        (None, None, None) => {}
    }
    verify(template, steps, &out, &base, &statements)?;
    Ok(out)
}

/// A build request JSON as an official SDK's `Template.toJSON` prints it (E2B or Novita), as
/// `.tmpl` text. COPY sources keep their paths, relative to the context the request was made
/// with (give it with [`WriteOptions::context`]).
///
/// The `RUN` step a Novita request ends with, which writes the `ENV` values into
/// `/etc/profile.d` and `/etc/environment`, is left out (a Novita build adds it again) and named
/// in [`Imported::notes`]. Registry credentials are refused: a `.tmpl` file never holds a
/// secret, the error says how to write the base with `env("VAR")`.
///
/// ```
/// use sandbox_template_dsl::write::{WriteOptions, request_to_tmpl};
///
/// let json = r#"{"fromImage":"node:22","steps":[{"type":"RUN","args":["npm install -g tsx","root"]}]}"#;
/// let request = serde_json::from_str(json).unwrap();
/// let imported = request_to_tmpl(&request, &WriteOptions::new()).unwrap();
/// assert_eq!(imported.text, "from node \"22\";\nnpm install \"tsx\" (global);\n");
/// ```
pub fn request_to_tmpl(request: &BuildRequest, options: &WriteOptions) -> Result<Imported, WriteError> {
    if request.from_image_registry.is_some() {
        return Err(registry_in_request(request));
    }
    let mut notes = Vec::new();
    // The runtime reads a request that ends with Novita's env step as Novita's (`$` in env values
    // expands); the text says `provider novita;` and leaves the step out, which Novita builds add.
    let template = Template::from_build_request(request, Path::new("."))?;
    let mut steps = template.steps();
    if template.provider() == Provider::Novita && ends_with_novita_env_step(&template) {
        steps = &steps[..steps.len() - 1];
        notes.push(format!(
            "left out the last step (step {}): the `RUN` that Novita builds add to write the `ENV` values \
             into /etc/profile.d and /etc/environment; the file says `provider novita;`, so its builds add it again",
            request.steps.len()
        ));
    }
    Ok(Imported { text: write(&template, steps, options)?, notes })
}

/// A Dockerfile's text as `.tmpl` text, with the Docker semantics of `from dockerfile` (the
/// runtime's [`convert`](sandbox_template_runtime::dockerfile::convert)): one statement per
/// step, starting with `user "root"; workdir "/";` as the SDKs do. Skipped instructions are in
/// [`Imported::notes`].
///
/// ```
/// use sandbox_template_dsl::write::{WriteOptions, dockerfile_to_tmpl};
/// use sandbox_template_runtime::dockerfile::DockerfileOptions;
///
/// let imported = dockerfile_to_tmpl(
///     "FROM python:3.12\nWORKDIR /app\nCMD python -m http.server\n",
///     &DockerfileOptions::new(),
///     &WriteOptions::new(),
/// )
/// .unwrap();
/// assert!(imported.text.starts_with("from python \"3.12\";\nuser \"root\";\nworkdir \"/\";\nworkdir \"/app\";\n"));
/// assert!(imported.text.ends_with("start \"python -m http.server\" ready timeout 20s;\n"));
/// ```
pub fn dockerfile_to_tmpl(
    text: &str,
    dockerfile: &DockerfileOptions,
    options: &WriteOptions,
) -> Result<Imported, WriteError> {
    let converted = convert(text, dockerfile)?;
    let notes = converted.warnings.iter().map(ToString::to_string).collect();
    let location = SourceLocation { file: "Dockerfile", line: 1, column: 1 };
    let template = Template::new().apply_dockerfile(converted, location);
    Ok(Imported { text: to_tmpl(&template, options)?, notes })
}

fn registry_in_request(request: &BuildRequest) -> WriteError {
    let registry = request.from_image_registry.as_ref();
    let kind = registry.and_then(|r| r.get("type")).and_then(|t| t.as_str()).unwrap_or("(none)");
    let image = lit(request.from_image.as_deref().unwrap_or("IMAGE"));
    let base = match kind {
        "registry" => {
            format!(r#"from image {image} (username = env("REGISTRY_USERNAME"), password = env("REGISTRY_PASSWORD"))"#)
        }
        "aws" => format!(
            r#"from aws {image} (access_key_id = env("AWS_ACCESS_KEY_ID"), secret_access_key = env("AWS_SECRET_ACCESS_KEY"), region = "REGION")"#
        ),
        "gcp" => format!(r#"from gcp {image} (service_account_json = file("service-account.json"))"#),
        "huawei" => format!(
            r#"from huawei {image} (access_key_id = env("HUAWEI_ACCESS_KEY_ID"), secret_access_key = env("HUAWEI_SECRET_ACCESS_KEY"), region = "REGION")"#
        ),
        "oci" => {
            // Only the private key is a secret; the OCIDs, fingerprint and region are written as sent.
            let field = |name: &str| {
                let value = registry.and_then(|r| r.get(name)).and_then(|v| v.as_str());
                lit(value.unwrap_or("..."))
            };
            format!(
                r#"from oci {image} (tenancy_ocid = {}, user_ocid = {}, fingerprint = {}, private_key = env("OCI_PRIVATE_KEY"), region = {})"#,
                field("tenancyOcid"),
                field("userOcid"),
                field("fingerprint"),
                field("region")
            )
        }
        _ => {
            return unsupported(
                "base",
                format!("registry credentials of type `{kind}` have no DSL form"),
                "leave `fromImageRegistry` out of the input and log in with the Rust builder (`from_oci_registry`)",
            );
        }
    };
    unsupported(
        "base",
        format!(
            "the request holds the registry credentials (type `{kind}`) as values, and a `.tmpl` file never holds a secret"
        ),
        format!("leave `fromImageRegistry` out of the input, then write the base as `{base};`"),
    )
}

/// Whether the template's last step is the one `Provider::Novita` export adds for its `ENV`
/// steps: the export of the template without it ends with the same step.
fn ends_with_novita_env_step(template: &Template) -> bool {
    let Some((last, _)) = template.steps().split_last() else { return false };
    let Ok(request) = template.build_request(Provider::Novita, false) else { return false };
    // The export has the recorded env step and, after it, the one it adds itself.
    let n = request.steps.len();
    n >= 2 && same_wire(&request.steps[n - 2], &last.to_wire()) && same_wire(&request.steps[n - 1], &last.to_wire())
}

fn same_wire(a: &WireStep, b: &WireStep) -> bool {
    a.kind == b.kind && a.args == b.args
}

// ----- strings ---------------------------------------------------------------------------------

/// `s` as a DSL string literal: raw when it has quotes or backslashes and nothing a raw string
/// cannot hold, escaped otherwise (the escapes `proc_macro2` writes, which the lexer reads back).
fn lit(s: &str) -> String {
    if s.contains(['"', '\\']) && !s.chars().any(char::is_control) {
        let mut hashes = 1;
        while s.contains(&format!("\"{}", "#".repeat(hashes))) {
            hashes += 1;
        }
        let h = "#".repeat(hashes);
        return format!("r{h}\"{s}\"{h}");
    }
    proc_macro2::Literal::string(s).to_string()
}

fn list(items: &[String]) -> String {
    items.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ")
}

/// ` (a, b = c)`, or nothing.
fn options(opts: &[String]) -> String {
    if opts.is_empty() { String::new() } else { format!(" ({})", opts.join(", ")) }
}

fn flag(opts: &mut Vec<String>, name: &str, value: bool) {
    if value {
        opts.push(name.to_owned());
    }
}

fn optional_flag(opts: &mut Vec<String>, name: &str, value: Option<bool>) {
    match value {
        Some(true) => opts.push(name.to_owned()),
        Some(false) => opts.push(format!("{name} = false")),
        None => {}
    }
}

fn user(opts: &mut Vec<String>, user: Option<&String>) {
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        opts.push(format!("user = {}", lit(u)));
    }
}

fn env_key(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && syn::parse_str::<syn::Ident>(key).is_ok() { key.to_owned() } else { lit(key) }
}

fn secret(part: &str, s: &Secret) -> Result<String, WriteError> {
    if let Some(var) = s.env_var() {
        return Ok(format!("env({})", lit(var)));
    }
    if let Some(path) = s.file_path() {
        return Ok(format!("file({})", lit(&path.display().to_string())));
    }
    Err(unsupported(
        "base",
        format!("the {part} is a value, and a `.tmpl` file never holds a secret"),
        format!(
            "give the {part} as `Secret::from_env(\"VAR\")` or `Secret::from_file(\"path\")`; it is then written as `env(\"VAR\")` or `file(\"path\")`"
        ),
    ))
}

// ----- base ------------------------------------------------------------------------------------

/// The `from` statement, with `;`.
fn base_line(t: &Template) -> Result<String, WriteError> {
    let image = match t.base() {
        Base::Image(i) => i,
        Base::ProviderDefault | Base::Template(_) if t.registry().is_some() => {
            return Err(unsupported(
                "base",
                "registry credentials without a base image",
                "start from an image (`from_image`) to log in to its registry, or leave the credentials out",
            ));
        }
        Base::ProviderDefault => return Ok("from base;".to_owned()),
        Base::Template(name) => return Ok(format!("from template {};", lit(name))),
    };
    let Some(registry) = t.registry() else { return Ok(image_line(image)) };
    let image = lit(image);
    Ok(match registry {
        RegistryCredentials::Basic { username, password } => format!(
            "from image {image} (username = {}, password = {});",
            secret("registry username", username)?,
            secret("registry password", password)?
        ),
        RegistryCredentials::Aws { access_key_id, secret_access_key, region } => format!(
            "from aws {image} (access_key_id = {}, secret_access_key = {}, region = {});",
            secret("AWS access key ID", access_key_id)?,
            secret("AWS secret access key", secret_access_key)?,
            lit(region)
        ),
        RegistryCredentials::Huawei { access_key_id, secret_access_key, region } => format!(
            "from huawei {image} (access_key_id = {}, secret_access_key = {}, region = {});",
            secret("Huawei access key ID", access_key_id)?,
            secret("Huawei secret access key", secret_access_key)?,
            lit(region)
        ),
        RegistryCredentials::Gcp(sa) => {
            format!("from gcp {image} (service_account_json = {});", secret("GCP service account key", sa.secret())?)
        }
        RegistryCredentials::Oci(oci) => format!(
            "from oci {image} (tenancy_ocid = {}, user_ocid = {}, fingerprint = {}, private_key = {}, region = {});",
            lit(&oci.tenancy_ocid),
            lit(&oci.user_ocid),
            lit(&oci.fingerprint),
            secret("OCI private key", &oci.private_key)?,
            lit(&oci.region)
        ),
        other => {
            return Err(unsupported(
                "base",
                format!("registry credentials of type `{}` have no DSL form", other.kind()),
                "build this template with the Rust builder",
            ));
        }
    })
}

/// `from DISTRO "TAG";` when the image is a distro's and reads back the same, else `from image`.
fn image_line(image: &str) -> String {
    for d in DISTROS {
        if let Some(tag) = image.strip_prefix(d.image).and_then(|r| r.strip_prefix(':')) {
            let line = format!("from {} {};", d.keyword, lit(tag));
            if load(&line).is_some_and(|t| *t.base() == Base::Image(image.to_owned())) {
                return line;
            }
        }
    }
    format!("from image {};", lit(image))
}

fn load(text: &str) -> Option<Template> {
    tmpl::load_str(text, "imported.tmpl", None).ok()
}

// ----- steps -----------------------------------------------------------------------------------

/// The statement of one step, with `;`. A single `RUN` command in one of the SDKs' forms becomes
/// that statement when it reads back into the same wire step (after `base`).
fn statement(step: &Step, base: &str, provider: Provider) -> Result<String, WriteError> {
    if let StepKind::Env { vars, literal } = &step.kind {
        let pairs: Vec<String> = vars.iter().map(|(k, v)| format!("{} = {}", env_key(k), lit(v))).collect();
        // `literal` only changes what a `$` means (E2B sets values as written either way; Novita's
        // env script escapes more than `$` with it).
        let literal = *literal && (provider == Provider::Novita || vars.iter().any(|(_, v)| v.contains('$')));
        return Ok(format!("env {}{};", pairs.join(", "), if literal { " (literal)" } else { "" }));
    }
    if let StepKind::Run { commands, user } = &step.kind
        && let [command] = commands.as_slice()
        && let Some(kind) = lift_run(command, user.as_deref())
        && let Some(candidate) = kind_statement(&kind)
    {
        let wire = step.to_wire();
        let same = load(&format!("{base}\n{candidate}\n"))
            .is_some_and(|t| matches!(t.steps(), [one] if same_wire(&one.to_wire(), &wire)));
        if same {
            return Ok(candidate);
        }
    }
    match kind_statement(&step.kind) {
        Some(s) => Ok(s),
        None => {
            // `env` from its wire form (names and values), and kinds without a statement (kinds
            // added later) that travel as a `RUN`: that command, as a `run`.
            let wire = step.to_wire();
            match (wire.kind.as_str(), wire.args.as_slice()) {
                ("ENV", args) if !args.is_empty() && args.len() % 2 == 0 => {
                    let pairs: Vec<String> =
                        args.chunks(2).map(|kv| format!("{} = {}", env_key(&kv[0]), lit(&kv[1]))).collect();
                    Ok(format!("env {};", pairs.join(", ")))
                }
                ("RUN", [command, rest @ ..]) => Ok(run_statement(std::slice::from_ref(command), rest.first())),
                _ => Err(unsupported(
                    "step",
                    format!("`{}` has no DSL statement", step.describe()),
                    "write this step with the Rust builder",
                )),
            }
        }
    }
}

fn run_statement(commands: &[String], user_name: Option<&String>) -> String {
    let mut o = Vec::new();
    user(&mut o, user_name);
    format!("run {}{};", list(commands), options(&o))
}

fn copy_statement(c: &CopyStep) -> String {
    let mut o = Vec::new();
    user(&mut o, c.user.as_ref());
    if let Some(mode) = c.mode {
        o.push(format!("mode = 0o{mode:o}"));
    }
    optional_flag(&mut o, "force_upload", c.force_upload);
    optional_flag(&mut o, "resolve_symlinks", c.resolve_symlinks);
    optional_flag(&mut o, "gzip", c.gzip);
    format!("copy {} => {}{};", lit(&c.src), lit(&c.dest), options(&o))
}

/// A package list after `install`: ` "a", "b"`, or nothing.
fn packages(p: &[String]) -> String {
    if p.is_empty() { String::new() } else { format!(" {}", list(p)) }
}

/// The statement of a step kind that has one.
fn kind_statement(kind: &StepKind) -> Option<String> {
    let mut o = Vec::new();
    Some(match kind {
        StepKind::Run { commands, user } => run_statement(commands, user.as_ref()),
        StepKind::Copy(c) => copy_statement(c),
        StepKind::Workdir(p) => format!("workdir {};", lit(p)),
        StepKind::User(u) => format!("user {};", lit(u)),
        StepKind::PipInstall { packages: p, global } => {
            if !global {
                o.push("global = false".to_owned());
            }
            format!("pip install{}{};", packages(p), options(&o))
        }
        StepKind::NpmInstall { packages: p, global, dev } | StepKind::BunInstall { packages: p, global, dev } => {
            flag(&mut o, "global", *global);
            flag(&mut o, "dev", *dev);
            let tool = if matches!(kind, StepKind::NpmInstall { .. }) { "npm" } else { "bun" };
            format!("{tool} install{}{};", packages(p), options(&o))
        }
        StepKind::AptInstall { packages: p, no_install_recommends, fix_missing } => {
            flag(&mut o, "no_install_recommends", *no_install_recommends);
            flag(&mut o, "fix_missing", *fix_missing);
            format!("apt install {}{};", list(p), options(&o))
        }
        StepKind::GitClone { url, path, branch, depth, user: u } => {
            if let Some(b) = branch {
                o.push(format!("branch = {}", lit(b)));
            }
            if let Some(d) = depth {
                o.push(format!("depth = {d}"));
            }
            user(&mut o, u.as_ref());
            let dest = path.as_ref().map(|p| format!(" => {}", lit(p))).unwrap_or_default();
            format!("git clone {}{dest}{};", lit(url), options(&o))
        }
        StepKind::MakeDir { paths, mode, user: u } => {
            if let Some(m) = mode {
                o.push(format!("mode = 0o{m:o}"));
            }
            user(&mut o, u.as_ref());
            format!("mkdir {}{};", list(paths), options(&o))
        }
        StepKind::Remove { paths, recursive, force, user: u } => {
            flag(&mut o, "recursive", *recursive);
            flag(&mut o, "force", *force);
            user(&mut o, u.as_ref());
            format!("remove {}{};", list(paths), options(&o))
        }
        StepKind::Rename { src, dest, force, user: u } | StepKind::MakeSymlink { src, dest, force, user: u } => {
            flag(&mut o, "force", *force);
            user(&mut o, u.as_ref());
            let keyword = if matches!(kind, StepKind::Rename { .. }) { "rename" } else { "symlink" };
            format!("{keyword} {} => {}{};", lit(src), lit(dest), options(&o))
        }
        StepKind::McpServers(names) => format!("mcp server {};", list(names)),
        StepKind::DevContainerPrebuild(dir) => format!("devcontainer prebuild {};", lit(dir)),
        _ => return None,
    })
}

/// The apt form of `Step::to_wire`, up to the flags and packages.
const APT: &str = "apt-get update && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y ";

/// The step kind a `RUN` command in one of the SDKs' forms was made by, if it looks like one.
/// Only a guess: the caller keeps it when it renders back into the same command.
fn lift_run(command: &str, user: Option<&str>) -> Option<StepKind> {
    let user = user.filter(|u| !u.is_empty()).map(str::to_owned);
    if let Some(rest) = command.strip_prefix(APT) {
        let mut words = package_words(rest)?;
        let no_install_recommends = take_flag(&mut words, "--no-install-recommends");
        let fix_missing = take_flag(&mut words, "--fix-missing");
        return (!words.is_empty()).then_some(StepKind::AptInstall {
            packages: words,
            no_install_recommends,
            fix_missing,
        });
    }
    if let Some(rest) = command.strip_prefix("pip install ") {
        let (global, rest) = match rest.strip_prefix("--user ") {
            Some(r) => (false, r),
            None => (true, rest),
        };
        let packages = if rest == "." { Vec::new() } else { package_words(rest)? };
        return Some(StepKind::PipInstall { packages, global });
    }
    for (tool, dev_flag) in [("npm install", "--save-dev"), ("bun install", "--dev")] {
        if let Some(rest) = command.strip_prefix(tool) {
            let mut words = if rest.is_empty() { Vec::new() } else { package_words(rest.strip_prefix(' ')?)? };
            let global = take_flag(&mut words, "-g");
            let dev = take_flag(&mut words, dev_flag);
            return Some(if tool.starts_with("npm") {
                StepKind::NpmInstall { packages: words, global, dev }
            } else {
                StepKind::BunInstall { packages: words, global, dev }
            });
        }
    }
    if let Some(rest) = command.strip_prefix("mcp-gateway pull ") {
        return Some(StepKind::McpServers(package_words(rest)?));
    }
    let words = shell_words(command)?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["devcontainer", "build", "--workspace-folder", dir] => Some(StepKind::DevContainerPrebuild((*dir).to_owned())),
        ["git", "clone", url, rest @ ..] => {
            let (mut branch, mut depth, mut path) = (None, None, None);
            let mut rest = rest;
            loop {
                match rest {
                    ["--branch", b, "--single-branch", tail @ ..] => {
                        branch = Some((*b).to_owned());
                        rest = tail;
                    }
                    ["--depth", d, tail @ ..] => {
                        depth = Some(d.parse().ok()?);
                        rest = tail;
                    }
                    [p] => {
                        path = Some((*p).to_owned());
                        break;
                    }
                    [] => break,
                    _ => return None,
                }
            }
            Some(StepKind::GitClone { url: (*url).to_owned(), path, branch, depth, user })
        }
        ["mkdir", "-p", "-m", mode, paths @ ..] if !paths.is_empty() => {
            Some(StepKind::MakeDir { paths: owned(paths), mode: Some(u32::from_str_radix(mode, 8).ok()?), user })
        }
        ["mkdir", "-p", paths @ ..] if !paths.is_empty() => {
            Some(StepKind::MakeDir { paths: owned(paths), mode: None, user })
        }
        ["rm", rest @ ..] => {
            let (recursive, rest) = leading(rest, "-r");
            let (force, paths) = leading(rest, "-f");
            (!paths.is_empty()).then(|| StepKind::Remove { paths: owned(paths), recursive, force, user })
        }
        ["mv", src, dest] => {
            Some(StepKind::Rename { src: (*src).to_owned(), dest: (*dest).to_owned(), force: false, user })
        }
        ["mv", src, dest, "-f"] => {
            Some(StepKind::Rename { src: (*src).to_owned(), dest: (*dest).to_owned(), force: true, user })
        }
        ["ln", "-s", "-f", src, dest] => {
            Some(StepKind::MakeSymlink { src: (*src).to_owned(), dest: (*dest).to_owned(), force: true, user })
        }
        ["ln", "-s", src, dest] => {
            Some(StepKind::MakeSymlink { src: (*src).to_owned(), dest: (*dest).to_owned(), force: false, user })
        }
        _ => None,
    }
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// `(true, rest)` when `words` starts with `flag`.
fn leading<'a, 'b>(words: &'a [&'b str], flag: &str) -> (bool, &'a [&'b str]) {
    match words.split_first() {
        Some((first, rest)) if *first == flag => (true, rest),
        _ => (false, words),
    }
}

/// Removes `flag` from the front of `words`; whether it was there.
fn take_flag(words: &mut Vec<String>, flag: &str) -> bool {
    if words.first().is_some_and(|w| w == flag) {
        words.remove(0);
        true
    } else {
        false
    }
}

/// The space-separated package names (the SDKs do not quote them), flags first; `None` when a
/// word is not a plain package name or flag, so a command that does more (`&&`, `;`, `$`, quotes)
/// stays a `run`.
fn package_words(rest: &str) -> Option<Vec<String>> {
    let words: Vec<String> = rest.split(' ').map(str::to_owned).collect();
    let plain = |w: &String| {
        !w.is_empty() && !w.chars().any(|c| c.is_whitespace() || c.is_control() || "&|;<>()$`\\\"'!#".contains(c))
    };
    words.iter().all(plain).then_some(words)
}

/// Words of a command made by `shlex.quote`-quoting each argument (`'...'`, `"'"`, plain words of
/// its safe set); `None` for anything else.
fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' | '$' | '`' => return None,
                        c => w.push(c),
                    }
                }
            }
            c if c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c) => word.get_or_insert_with(String::new).push(c),
            _ => return None,
        }
    }
    words.extend(word);
    Some(words)
}

// ----- start and ready -------------------------------------------------------------------------

fn ready_form(ready: &ReadyCmd) -> String {
    let ready = match ready {
        ReadyCmd::Command(c) => lift_ready(c),
        other => other.clone(),
    };
    match ready {
        ReadyCmd::Port(p) => format!("port {p}"),
        ReadyCmd::Url { url, status: 200 } => format!("url {}", lit(&url)),
        ReadyCmd::Url { url, status } => format!("url {} status {status}", lit(&url)),
        ReadyCmd::Process(name) => format!("process {}", lit(&name)),
        ReadyCmd::File(path) => format!("file {}", lit(&path)),
        ReadyCmd::Timeout(d) if d.subsec_millis() == 0 => format!("timeout {}s", d.as_secs()),
        ReadyCmd::Timeout(d) => format!("timeout {}ms", d.as_millis()),
        ReadyCmd::Command(c) => lit(&c),
    }
}

/// A ready command in one of the SDKs' helper forms as that helper (`wait_for_url`, ...), when it
/// renders back into the same command for every provider; else the command.
fn lift_ready(command: &str) -> ReadyCmd {
    let word = |s: &str| shell_words(s).and_then(|w| <[String; 1]>::try_from(w).ok()).map(|[w]| w);
    let candidate = if let Some(n) = command.strip_prefix("sleep ") {
        n.parse::<u64>().ok().filter(|n| *n >= 1).map(|n| ReadyCmd::Timeout(Duration::from_secs(n)))
    } else if let Some(name) = command.strip_prefix("pgrep ").and_then(|r| r.strip_suffix(" > /dev/null")) {
        word(name).map(ReadyCmd::Process)
    } else if let Some(path) = command.strip_prefix("[ -f ").and_then(|r| r.strip_suffix(" ]")) {
        word(path).map(ReadyCmd::File)
    } else if let Some(rest) = command.strip_prefix("curl -s -o /dev/null -w \"%{http_code}\" ") {
        rest.strip_suffix('"')
            .and_then(|r| r.rsplit_once(" | grep -q \""))
            .and_then(|(url, status)| Some(ReadyCmd::Url { url: word(url)?, status: status.parse().ok()? }))
    } else {
        None
    };
    match candidate {
        Some(r) if [Provider::E2b, Provider::Novita].iter().all(|p| r.command(*p) == command) => r,
        _ => ReadyCmd::Command(command.to_owned()),
    }
}

/// The folder of a start command and ready check made by `beta_set_dev_container_start`, on the
/// `devcontainer` template (the only base `devcontainer start` is allowed on).
fn dev_container_start(t: &Template) -> Option<String> {
    if *t.base() != Base::Template("devcontainer".to_owned()) {
        return None;
    }
    let rest = t.start_cmd()?.strip_prefix("sudo devcontainer up --workspace-folder ")?;
    let (quoted, _) = rest.split_once(" && ")?;
    let [dir] = <[String; 1]>::try_from(shell_words(quoted)?).ok()?;
    let made = Template::new().beta_set_dev_container_start(dir.as_str());
    let ready = |t: &Template, p: Provider| t.ready_cmd().map(|r| r.command(p));
    let same = made.start_cmd() == t.start_cmd()
        && [Provider::E2b, Provider::Novita].iter().all(|p| ready(&made, *p) == ready(t, *p));
    same.then_some(dir)
}

// ----- the check -------------------------------------------------------------------------------

/// Reads `text` back and compares it with `t`: the base, every step's wire form, the start and
/// ready commands, the ignore patterns and `force`.
fn verify(t: &Template, steps: &[Step], text: &str, base: &str, statements: &[String]) -> Result<(), WriteError> {
    let back = tmpl::load_str(text, "imported.tmpl", None).map_err(WriteError::Check)?;
    let differs = |what: &str, statement: &str| {
        Err(WriteError::NotReproduced { what: what.to_owned(), statement: statement.to_owned() })
    };
    if back.base() != t.base() || back.registry() != t.registry() {
        return differs("base", base);
    }
    if back.is_forced() != t.is_forced() || back.ignore_patterns() != t.ignore_patterns() {
        return differs("header", text.lines().next().unwrap_or(""));
    }
    if back.provider() != t.provider() {
        return differs("header", "provider");
    }
    if back.pre_boot_script() != t.pre_boot_script() {
        return differs("preBootScript", "patch");
    }
    if back.steps().len() != steps.len() {
        return differs("steps", &statements.join(" "));
    }
    for (i, (a, b)) in back.steps().iter().zip(steps).enumerate() {
        let env_differs = match (&a.kind, &b.kind) {
            (StepKind::Env { literal: x, .. }, StepKind::Env { literal: y, .. }) => {
                x != y && (t.provider() == Provider::Novita || a.to_wire().args.iter().any(|v| v.contains('$')))
            }
            _ => false,
        };
        if a.to_wire() != b.to_wire() || env_differs {
            return differs(&format!("step {}", i + 1), &statements[i]);
        }
    }
    let ready = |t: &Template, p: Provider| t.ready_cmd().map(|r| r.command(p));
    if back.start_cmd() != t.start_cmd()
        || [Provider::E2b, Provider::Novita].iter().any(|p| ready(&back, *p) != ready(t, *p))
    {
        return differs("start", text.lines().last().unwrap_or(""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_back_as_written() {
        for s in ["plain", "say \"hi\"", "a\\b", "\"#", "tab\there", "new\nline", "é ✓", "", "r#\"x\"#"] {
            let text = format!("from base;\nenv A = {};\n", lit(s));
            let t = load(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(t.steps()[0].to_wire().args, ["A", s], "{text}");
        }
        assert_eq!(lit("say \"hi\""), "r#\"say \"hi\"\"#");
        assert_eq!(lit("\"#"), "r##\"\"#\"##");
    }

    #[test]
    fn shell_words_undo_shell_quote() {
        use sandbox_template_runtime::shell_quote;
        let words = ["simple", "with space", "it's", "", "$VAR", "semi;colon"];
        let line = words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ");
        assert_eq!(shell_words(&line).unwrap(), words);
        assert_eq!(shell_words("a && b"), None);
    }
}
