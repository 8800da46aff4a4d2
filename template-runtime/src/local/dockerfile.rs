//! The Dockerfile a local engine builds: every step of the template, nothing dropped.
//!
//! Unlike [`Template::to_dockerfile`] (the SDKs' display form), this keeps users, copy owners and
//! modes, quoting and the start command, and records which template step each Dockerfile
//! instruction came from, so an engine's `STEP 3/7` maps back to the user's source line.
//!
//! It follows the cloud's user model (E2B's build service, `e2b-dev/infra`, whose behaviour Novita
//! shares): steps run as `user` in `/home/user` unless the template says otherwise, whatever the
//! base image's own `USER` and `WORKDIR` are. See [`LocalDockerfile::for_template`] for what is
//! mirrored, and from where.

use crate::provider::Provider;
use crate::rules::{DEFAULT_USER, is_root};
use crate::shell_quote;
use crate::step::{SourceLocation, StepKind};
use crate::template::{Base, Template};

use super::error::{LocalError, StepOrigin};

/// The file name of the generated Dockerfile inside the build context. Unusual on purpose, so it
/// cannot clash with a `Dockerfile` the user copies.
pub const DOCKERFILE_NAME: &str = ".sandbox-template.Dockerfile";

/// The image label holding the workdir a template set, so that a template built on it
/// (`from_template`) keeps it, as the cloud keeps it in the template's metadata; without the label
/// it starts in the default user's home.
pub(super) const WORKDIR_LABEL: &str = "io.sandbox-template.workdir";

/// How to write the Dockerfile for an engine and base image.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalDockerfileOptions {
    /// The image that stands for the provider's default base ([`Base::ProviderDefault`]).
    pub default_base: String,
    /// The user the base image runs as (its `USER`; empty or `None` means root). The cloud ignores
    /// it (its build starts as root and creates the default user); here it only decides whether a
    /// `USER root` must come before that.
    pub base_user: Option<String>,
    /// For a `from_template` base: the workdir that template set (the image's
    /// `io.sandbox-template.workdir` label, which [`Engine::build`](super::Engine::build) reads).
    /// `None`: steps start in the default user's home, as in the cloud when the parent set none.
    pub base_workdir: Option<String>,
    /// Whether the engine understands `COPY --chmod` (Podman/Buildah and BuildKit do, Docker's
    /// legacy builder does not: then a root `RUN chmod` follows the copy).
    pub copy_chmod: bool,
    /// The reference to write in `FROM` instead of the template's base (e.g. the fully qualified
    /// name the image was pulled as).
    pub base_image: Option<String>,
    /// Whose env semantics to build (default: the template's provider,
    /// [`Template::for_provider`]): E2B sets values as written; Novita expands `$VAR` and `${VAR}`
    /// against the image's variables and the ones set before, as its env script does.
    pub provider: Option<Provider>,
}

impl Default for LocalDockerfileOptions {
    fn default() -> Self {
        LocalDockerfileOptions {
            default_base: crate::Provider::E2b.default_base_image().to_owned(),
            base_user: None,
            base_workdir: None,
            copy_chmod: true,
            base_image: None,
            provider: None,
        }
    }
}

/// A generated Dockerfile and, for each instruction, the template part it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalDockerfile {
    /// The Dockerfile text.
    pub text: String,
    /// `origins[k]` is where instruction `k + 1` came from (engines number steps from 1, `FROM`
    /// included).
    pub origins: Vec<StepOrigin>,
    /// The base image (`FROM`).
    pub base_image: String,
}

impl LocalDockerfile {
    /// The template part of the engine's 1-based step number.
    pub fn origin_of(&self, step_number: usize) -> Option<&StepOrigin> {
        self.origins.get(step_number.checked_sub(1)?)
    }
}

struct Writer {
    text: String,
    origins: Vec<StepOrigin>,
    /// The user the template is at (the cloud's default user, or the last `set_user`).
    current: String,
    /// The workdir the template set (absolute), or `None`: the current user's home.
    workdir: Option<String>,
    /// The user the Dockerfile is at: differs from `current` after a step with its own user, until
    /// the next step that runs as `current`. Only `RUN` (and `WORKDIR`, which may create folders)
    /// depend on it, so switching back waits until one of them or the end.
    effective: String,
}

impl Writer {
    fn push(&mut self, origin: &StepOrigin, line: String) {
        self.text.push_str(&line);
        self.text.push('\n');
        self.origins.push(origin.clone());
    }

    /// A `#` line: engines do not count it as a step.
    fn comment(&mut self, text: &str) {
        self.text.push_str("# ");
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// `set_user(user)` as the cloud does it: the user is created (as root) when the image lacks
    /// it, steps run as it, and they start in its home unless the template set a workdir.
    fn set_user(&mut self, origin: &StepOrigin, user: &str, admin: bool) {
        if user == self.current && !admin {
            // Already created, and already in its home (or the set workdir).
            self.push(origin, format!("USER {user}"));
            self.effective = user.to_owned();
            return;
        }
        if !is_root(user) {
            self.run(origin, &ensure_user_script(user, admin), Some("root"));
        }
        self.push(origin, format!("USER {user}"));
        (self.current, self.effective) = (user.to_owned(), user.to_owned());
        if self.workdir.is_none() {
            self.push(origin, format!("WORKDIR {}", escape_unquoted(&home_of(user))));
        }
    }

    fn become_user(&mut self, origin: &StepOrigin, user: &str) {
        if self.effective != user {
            self.push(origin, format!("USER {user}"));
            self.effective = user.to_owned();
        }
    }

    /// `RUN` with `/bin/sh -c`, as `user` or the current user.
    fn run(&mut self, origin: &StepOrigin, command: &str, user: Option<&str>) {
        let user = user.unwrap_or(&self.current).to_owned();
        self.become_user(origin, &user);
        self.push(origin, format!("RUN {}", json(&["/bin/sh", "-c", command])));
    }
}

impl LocalDockerfile {
    /// Writes the Dockerfile for `template`.
    ///
    /// Users and workdirs follow the cloud's build service (`e2b-dev/infra` at commit
    /// `54693ff353d26c5fe1951db5467e751f3e2f984e`, `packages/orchestrator/pkg/template/build/`):
    /// - the base image's `USER` and `WORKDIR` are ignored (`phases/base/builder.go` starts as
    ///   `root` with no workdir); the user `user` is created when the image lacks it, with a home
    ///   folder, a group of its name and passwordless `sudo` (`phases/user/builder.go` runs a
    ///   `USER user` step with sudo; `commands/user.go`: `useradd --create-home --shell /bin/bash`,
    ///   the `sudo` or `wheel` group, `passwd -d`, `user ALL=(ALL:ALL) NOPASSWD: ALL`); steps run as
    ///   `user` in `/home/user` (no workdir means the user's home);
    /// - `set_user(u)` creates `u` the same way, without sudo, and moves to `/home/u` (`/root` for
    ///   root) unless a workdir was set; the last user and workdir are the image's;
    /// - `set_workdir(p)` creates the missing folders owned by the current user (`commands/workdir.go`);
    ///   a relative `p` is taken from the previous workdir, or from `/` when none was set;
    /// - a copy without `user` is owned by the current user, `name` means `name:name`
    ///   (`commands/copy.go`);
    /// - a `from_template` base starts as `user` again (the cloud's default-user step runs after
    ///   the parent's steps) and keeps the workdir the parent set.
    ///
    /// The user is created with `useradd` where the image has it (Debian, Ubuntu, Fedora, Arch),
    /// else busybox `adduser -D` (Alpine), else by adding lines to `/etc/passwd`, `/etc/group` and
    /// `/etc/shadow` (images without either, such as busybox-static); its shell is `/bin/bash`
    /// where the image has bash, else `/bin/sh`. Sudo rights go into `/etc/sudoers` where it
    /// exists, else into `/etc/sudoers.d/`, so that a `sudo` installed later grants them too. The
    /// password is removed (`passwd -d`) only where `/etc/shadow` holds it: busybox reads an
    /// account with an empty password field in `/etc/passwd` as no account at all.
    ///
    /// `from_template("name")` becomes `FROM name`: locally a template is the image tagged with its
    /// name, so it works when that template was built locally before ([`Engine::build`]
    /// says so otherwise). COPY patterns are written as they are; [`Engine::build`] and
    /// [`write_build_context`] replace them with what they select.
    ///
    /// [`Engine::build`]: super::Engine::build
    /// [`write_build_context`]: super::write_build_context
    ///
    /// ```
    /// use sandbox_template_runtime::{Template, RunOptions};
    /// use sandbox_template_runtime::local::{LocalDockerfile, LocalDockerfileOptions};
    ///
    /// let t = Template::new()
    ///     .from_image("localhost/sandbox-base:latest")
    ///     .set_envs([("GREETING", "say \"hi\"")])
    ///     .run_cmd("id -un > /tmp/who")
    ///     .run_cmd_with("touch /etc/marker", RunOptions::new().user("root"));
    /// let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
    /// let steps: Vec<&str> = df.text.lines().filter(|l| !l.starts_with('#')).collect();
    /// assert_eq!(steps[0], "FROM localhost/sandbox-base:latest");
    /// assert!(steps[1].starts_with("RUN [\"/bin/sh\",\"-c\",\"u=user\\n")); // creates `user` if missing
    /// assert_eq!(
    ///     steps[2..],
    ///     [
    ///         "USER user",
    ///         "WORKDIR /home/user",
    ///         "ENV GREETING=\"say \\\"hi\\\"\"",
    ///         "RUN [\"/bin/sh\",\"-c\",\"id -un > /tmp/who\"]",
    ///         "USER root",
    ///         "RUN [\"/bin/sh\",\"-c\",\"touch /etc/marker\"]",
    ///         "USER user",
    ///     ]
    /// );
    /// ```
    pub fn for_template(template: &Template, options: &LocalDockerfileOptions) -> Result<LocalDockerfile, LocalError> {
        dockerfile_with(template, options, &[])
    }
}

/// [`LocalDockerfile::for_template`], with the sources of glob COPY steps already expanded: `expanded[i]` lists the
/// top-level paths step `i`'s pattern selects (as the context module matches them, like the
/// SDKs), so the engine copies what a cloud build copies instead of matching the pattern itself
/// (Docker's matching has no `**`).
pub(super) fn dockerfile_with(
    template: &Template,
    options: &LocalDockerfileOptions,
    expanded: &[Option<Vec<String>>],
) -> Result<LocalDockerfile, LocalError> {
    let base_image = match (&options.base_image, template.base()) {
        (Some(image), _) => image.clone(),
        (None, Base::ProviderDefault) => options.default_base.clone(),
        (None, Base::Image(image)) => image.clone(),
        (None, Base::Template(name)) => name.clone(),
    };
    single_line(&base_image, "base image", template.base_location())?;
    let provider = options.provider.unwrap_or(template.provider());
    let base_user = options.base_user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".to_owned());
    // A template base keeps the workdir its template set; an image's own WORKDIR is ignored.
    let base_workdir = match template.base() {
        Base::Template(_) => options.base_workdir.clone().filter(|w| !w.is_empty()),
        _ => None,
    };
    let mut w = Writer {
        text: String::new(),
        origins: Vec::new(),
        current: base_user.clone(),
        workdir: base_workdir,
        effective: base_user,
    };
    w.push(&StepOrigin::Base, format!("FROM {base_image}"));
    w.comment(&format!(
        "The cloud's default user: `{DEFAULT_USER}` (created if missing, with passwordless sudo), in its home"
    ));
    w.set_user(&StepOrigin::Base, DEFAULT_USER, true);

    for (i, step) in template.steps().iter().enumerate() {
        let origin = StepOrigin::Step(i);
        let at = Some(step.location);
        match &step.kind {
            StepKind::Copy(copy) => {
                let mut flags = String::new();
                // Owned by the current user without a `user` option; `name` is `name:name`, as the
                // cloud's copy does.
                let owner = match copy.user.as_deref().filter(|u| !u.is_empty()) {
                    Some(owner) => {
                        word(owner, "copy owner", at)?;
                        owner
                    }
                    None => &w.current,
                };
                if !is_root(owner) || owner.contains(':') {
                    let owner = if owner.contains(':') { owner.to_owned() } else { format!("{owner}:{owner}") };
                    flags.push_str(&format!("--chown={owner} "));
                }
                let chmod_after = match copy.mode {
                    Some(mode) if options.copy_chmod => {
                        flags.push_str(&format!("--chmod={mode:04o} "));
                        None
                    }
                    other => other,
                };
                let paths = match expanded.get(i).and_then(Option::as_ref) {
                    Some(sources) => {
                        // Several sources need a folder destination (Docker's rule for
                        // multi-source COPY), as the pattern did.
                        let dest = match sources.len() > 1 && !copy.dest.ends_with('/') {
                            true => format!("{}/", copy.dest),
                            false => copy.dest.clone(),
                        };
                        let mut items: Vec<&str> = sources.iter().map(String::as_str).collect();
                        items.push(&dest);
                        json(&items)
                    }
                    None => json(&[copy.src.as_str(), copy.dest.as_str()]),
                };
                w.push(&origin, format!("COPY {flags}{paths}"));
                if let Some(mode) = chmod_after {
                    let src_is_dir = template.context_dir().join(&copy.src).is_dir();
                    let target = copy_target(&copy.src, &copy.dest, src_is_dir);
                    let cmd = format!("chmod -R {mode:04o} {}", shell_quote(&target));
                    w.run(&origin, &cmd, Some("root"));
                }
            }
            StepKind::Env { vars, literal } => {
                for (k, v) in vars {
                    single_line(v, &format!("value of `{k}`"), at)?;
                }
                if *literal || provider == Provider::E2b {
                    let pairs: Vec<String> =
                        vars.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_double_quoted(v))).collect();
                    w.push(&origin, format!("ENV {}", pairs.join(" ")));
                } else {
                    // One instruction per variable: the engine expands a value against the
                    // variables before its instruction, and Novita's script exports each value
                    // before expanding the next (`B=$A` sees the `A` of the same step).
                    for (k, v) in vars {
                        w.push(&origin, format!("ENV {k}=\"{}\"", escape_expandable(v)));
                    }
                }
            }
            StepKind::Workdir(path) => {
                single_line(path, "workdir", at)?;
                // Relative to the previous workdir, or to `/` when none was set (the cloud's rule).
                let path = match (path.starts_with('/'), &w.workdir) {
                    (true, _) => path.clone(),
                    (false, Some(dir)) => format!("{}/{path}", dir.trim_end_matches('/')),
                    (false, None) => format!("/{path}"),
                };
                let current = w.current.clone();
                if is_root(&current) {
                    w.become_user(&origin, &current);
                } else {
                    // The folders it creates belong to the current user, as in the cloud (an
                    // engine's WORKDIR would make them root's).
                    w.run(&origin, &make_workdir_script(&path, &current), Some("root"));
                }
                w.push(&origin, format!("WORKDIR {}", escape_unquoted(&path)));
                w.workdir = Some(path);
            }
            StepKind::User(user) => {
                word(user, "user", at)?;
                w.set_user(&origin, user, false);
            }
            _ => {
                // Every other step is a shell command; `Step::to_wire` is the one place that
                // renders it (the same text the cloud receives).
                let wire = step.to_wire();
                let command = wire.args.first().cloned().unwrap_or_default();
                let user = wire.args.get(1).filter(|u| !u.is_empty());
                if let Some(user) = user {
                    word(user, "user", at)?;
                }
                w.run(&origin, &command, user.map(String::as_str));
            }
        }
    }
    // The image runs as the template's user, whatever the last step ran as.
    let last = template.steps().len().checked_sub(1).map_or(StepOrigin::Base, StepOrigin::Step);
    let current = w.current.clone();
    w.become_user(&last, &current);
    if let Some(dir) = w.workdir.clone() {
        single_line(&dir, "workdir", None)?;
        w.push(&last, format!("LABEL {WORKDIR_LABEL}=\"{}\"", escape_double_quoted(&dir)));
    }
    if let Some(start) = template.start_cmd() {
        // For `docker run IMAGE` by hand; `start` runs the command itself so it can keep the
        // container alive when the command returns, as a sandbox does.
        w.push(&StepOrigin::Finalize, format!("CMD {}", json(&["/bin/sh", "-c", start])));
    }
    Ok(LocalDockerfile { text: w.text, origins: w.origins, base_image })
}

/// The home folder `set_user(user)` moves to: `/root` for root, else `/home/NAME`, as the cloud's
/// `useradd --create-home` makes it.
fn home_of(user: &str) -> String {
    let name = user.split(':').next().unwrap_or(user);
    if is_root(user) { "/root".to_owned() } else { format!("/home/{name}") }
}

/// A shell script (run as root) that creates `user` when the image lacks it, with the home folder
/// [`home_of`] names; `admin` also gives it passwordless sudo, as the cloud's default user has.
/// The tool that creates it depends on the image: `useradd` (shadow), busybox `adduser`, or the
/// account files themselves.
fn ensure_user_script(user: &str, admin: bool) -> String {
    let name = user.split(':').next().unwrap_or(user);
    let mut script = format!(
        "u={}\n\
         h={}\n\
         if ! id -u \"$u\" >/dev/null 2>&1; then\n\
         \x20 sh=/bin/sh; [ -x /bin/bash ] && sh=/bin/bash\n\
         \x20 mkdir -p \"$(dirname \"$h\")\"\n\
         \x20 if command -v useradd >/dev/null 2>&1; then useradd --create-home --home-dir \"$h\" --shell \"$sh\" \"$u\"\n\
         \x20 elif command -v adduser >/dev/null 2>&1 && adduser -D -h \"$h\" -s \"$sh\" \"$u\"; then :\n\
         \x20 else\n\
         \x20   n=1000; while grep -qs \"^[^:]*:[^:]*:$n:\" /etc/passwd /etc/group; do n=$((n+1)); done\n\
         \x20   grep -qs \"^$u:\" /etc/group || echo \"$u:x:$n:\" >> /etc/group\n\
         \x20   g=$(grep \"^$u:\" /etc/group | cut -d: -f3)\n\
         \x20   echo \"$u:x:$n:$g::$h:$sh\" >> /etc/passwd\n\
         \x20   if [ -f /etc/shadow ]; then echo \"$u:!:::::::\" >> /etc/shadow; fi\n\
         \x20 fi\n\
         fi\n\
         [ -d \"$h\" ] || {{ mkdir -p \"$h\" && chown \"$(id -u \"$u\"):$(id -g \"$u\")\" \"$h\"; }}",
        shell_quote(name),
        shell_quote(&home_of(user)),
    );
    if admin {
        script.push_str(
            "\nfor g in sudo wheel; do\n\
             \x20 if grep -qs \"^$g:\" /etc/group; then usermod -aG \"$g\" \"$u\" 2>/dev/null || addgroup \"$u\" \"$g\" 2>/dev/null || true; break; fi\n\
             done\n\
             if [ -f /etc/shadow ]; then passwd -d \"$u\" >/dev/null 2>&1 || true; fi\n\
             line=\"$u ALL=(ALL:ALL) NOPASSWD: ALL\"\n\
             if [ -f /etc/sudoers ]; then grep -qxF \"$line\" /etc/sudoers || echo \"$line\" >> /etc/sudoers\n\
             else mkdir -p /etc/sudoers.d && echo \"$line\" > \"/etc/sudoers.d/90-$u\" && chmod 0440 \"/etc/sudoers.d/90-$u\"; fi",
        );
    }
    script
}

/// A shell script (run as root) that creates the workdir `path` and gives the folders it creates
/// to `user`, as the cloud's WORKDIR step does (only the new ones: `/home/user/a/b` does not
/// change the owner of `/home/user`).
fn make_workdir_script(path: &str, user: &str) -> String {
    let owner = match user.contains(':') {
        true => shell_quote(user),
        false => format!("\"$(id -u {u}):$(id -g {u})\"", u = shell_quote(user)),
    };
    format!(
        "t={}; if [ ! -d \"$t\" ]; then f=; c=\"$t\"; \
         while [ ! -d \"$c\" ]; do f=\"$c\"; c=$(dirname \"$c\"); done; \
         mkdir -p \"$t\" && chown -R {owner} \"$f\"; fi",
        shell_quote(path)
    )
}

/// Where a `COPY src dest` puts `src`: a folder's contents go into `dest`; a file goes to `dest`,
/// or into it under its own name when `dest` ends with `/`.
fn copy_target(src: &str, dest: &str, src_is_dir: bool) -> String {
    if dest.ends_with('/') && !src_is_dir {
        let name = src.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if name.is_empty() || name == "." || name.contains(['*', '?', '[']) {
            dest.to_owned()
        } else {
            format!("{dest}{name}")
        }
    } else {
        dest.to_owned()
    }
}

/// A JSON array of strings: the Dockerfile exec form, which takes any text (newlines, quotes, `$`)
/// without Dockerfile-level interpretation.
fn json(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// The inside of a Dockerfile double-quoted word: the builders' shell lexer treats `\` as an escape
/// only before `"`, `$` and `\`.
fn escape_double_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '"' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The inside of a Dockerfile double-quoted word that the engine expands as Novita's env script
/// does: `$VAR` and `${VAR}` expand, `"` and `\\` are themselves, and `$(` stays text (the script
/// escapes it so no command runs; the engine has no command substitution, but `\\$(` keeps the
/// `$` from being read as the start of a variable).
fn escape_expandable(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, '"' | '\\') || (c == '$' && chars.peek() == Some(&'(')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Which env semantics a local build of `template` applies, when any of its env values holds a `$`
/// (`None` otherwise): a line for the build log, naming the provider and the variables.
///
/// ```
/// use sandbox_template_runtime::{Provider, Template};
/// use sandbox_template_runtime::local::env_semantics;
/// let t = Template::new().set_envs([("PATH", "/opt/bin:$PATH"), ("A", "x")]);
/// let note = env_semantics(&t, Provider::Novita).unwrap();
/// assert!(note.contains("Novita") && note.contains("`PATH`") && !note.contains("`A`"));
/// assert_eq!(env_semantics(&t.clone().set_envs([("B", "y")]), Provider::E2b).map(|_| ()), Some(()));
/// assert!(env_semantics(&Template::new().set_envs([("A", "x")]), Provider::E2b).is_none());
/// ```
pub fn env_semantics(template: &Template, provider: Provider) -> Option<String> {
    let (mut expanded, mut literal) = (Vec::new(), Vec::new());
    for step in template.steps() {
        if let StepKind::Env { vars, literal: is_literal } = &step.kind {
            for (k, _) in vars.iter().filter(|(_, v)| v.contains('$')) {
                let name = format!("`{k}`");
                match *is_literal || provider == Provider::E2b {
                    true if !literal.contains(&name) => literal.push(name),
                    false if !expanded.contains(&name) => expanded.push(name),
                    _ => {}
                }
            }
        }
    }
    let mut parts = Vec::new();
    if !expanded.is_empty() {
        parts.push(format!(
            "expanded `$VAR` in {} against the image's and earlier variables (Novita's semantics)",
            expanded.join(", ")
        ));
    }
    if !literal.is_empty() {
        let why = if provider == Provider::E2b { "E2B's semantics" } else { "marked literal" };
        parts.push(format!("set {} as written, `$` included ({why})", literal.join(", ")));
    }
    (!parts.is_empty()).then(|| format!("env values with `$`: {}", parts.join("; ")))
}

/// An unquoted Dockerfile argument (WORKDIR): no variable expansion, backslashes and quotes kept
/// (the builders' word lexer would otherwise drop quotes, or fail on an unpaired one).
fn escape_unquoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '$' | '\\' | '"' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Dockerfile instructions end at a newline; values that hold one cannot be written.
fn single_line(v: &str, what: &str, location: Option<SourceLocation>) -> Result<(), LocalError> {
    if v.contains(['\n', '\r']) {
        return Err(LocalError::Unsupported {
            what: format!("the {what} contains a line break, which a Dockerfile cannot hold"),
            location,
            help: "write the value on one line (for an environment variable, set it in a `run_cmd` script)".into(),
        });
    }
    Ok(())
}

/// A user name or owner: one word.
fn word(v: &str, what: &str, location: Option<SourceLocation>) -> Result<(), LocalError> {
    single_line(v, what, location)?;
    if v.chars().any(char::is_whitespace) {
        return Err(LocalError::Unsupported {
            what: format!("the {what} `{v}` contains whitespace"),
            location,
            help: "write a user name or `user:group`, without spaces".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CopyOptions, FileOptions, MakeDirOptions, RemoveOptions, RunOptions, wait_for_file};

    fn base() -> Template {
        Template::new().from_image("localhost/sandbox-base:latest")
    }

    fn dockerfile(t: &Template) -> LocalDockerfile {
        LocalDockerfile::for_template(t, &LocalDockerfileOptions::default()).unwrap()
    }

    /// The instructions after the default user's preamble (FROM, the RUN that creates `user`,
    /// `USER user`, `WORKDIR /home/user`), comments left out.
    fn steps(df: &LocalDockerfile) -> Vec<&str> {
        let all: Vec<&str> = df.text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(all[0], "FROM localhost/sandbox-base:latest");
        assert!(all[1].starts_with(r#"RUN ["/bin/sh","-c","u=user\nh=/home/user\n"#), "{}", all[1]);
        assert_eq!(all[2..4], ["USER user", "WORKDIR /home/user"]);
        all[4..].to_vec()
    }

    #[test]
    fn steps_run_as_the_clouds_default_user_in_its_home_whatever_the_base_image_says() {
        let t = base().run_cmd("whoami");
        let opts = LocalDockerfileOptions { base_user: Some("nobody".into()), ..Default::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        let lines: Vec<&str> = df.text.lines().collect();
        assert_eq!(lines[0], "FROM localhost/sandbox-base:latest");
        assert!(lines[1].starts_with("# The cloud's default user"), "{}", lines[1]);
        // The image runs as `nobody`: back to root to create the user.
        assert_eq!(lines[2], "USER root");
        assert!(lines[3].contains("useradd --create-home") && lines[3].contains("NOPASSWD: ALL"), "{}", lines[3]);
        assert_eq!(lines[4..], ["USER user", "WORKDIR /home/user", r#"RUN ["/bin/sh","-c","whoami"]"#]);
        assert_eq!(df.origin_of(5), Some(&StepOrigin::Base), "the preamble belongs to the base");
        assert_eq!(df.origin_of(6), Some(&StepOrigin::Step(0)));
    }

    #[test]
    fn set_user_creates_the_user_without_sudo_and_moves_to_its_home_unless_a_workdir_was_set() {
        let t = base().run_cmd("pwd").set_user("guest").run_cmd("pwd");
        let df = dockerfile(&t);
        let s = steps(&df);
        assert_eq!(s[0], r#"RUN ["/bin/sh","-c","pwd"]"#);
        assert_eq!(s[1], "USER root");
        assert!(s[2].starts_with(r#"RUN ["/bin/sh","-c","u=guest\nh=/home/guest\n"#), "{}", s[2]);
        assert!(!s[2].contains("sudo"), "only the default user gets sudo: {}", s[2]);
        assert_eq!(s[3..], ["USER guest", "WORKDIR /home/guest", r#"RUN ["/bin/sh","-c","pwd"]"#]);

        let t = base().set_workdir("/app").set_user("guest").set_user("root");
        let s = dockerfile(&t).text.lines().filter(|l| l.starts_with("WORKDIR") || l.starts_with("USER")).count();
        // `USER user`, `WORKDIR /home/user`, then `/app` (its folder made by a root RUN), then
        // `USER guest` and `USER root`: no other WORKDIR, the one set stays.
        assert_eq!(s, 6, "{}", dockerfile(&t).text);
        assert!(dockerfile(&t).text.ends_with("USER root\nLABEL io.sandbox-template.workdir=\"/app\"\n"));
        assert!(dockerfile(&base().set_user("root")).text.ends_with("USER root\nWORKDIR /root\n"));
    }

    #[test]
    fn workdirs_are_made_for_the_current_user_and_relative_ones_follow_the_cloud() {
        let t = base().set_workdir("rel").set_workdir("sub").set_user("root").set_workdir("/opt/x");
        let df = dockerfile(&t);
        let s = steps(&df);
        assert_eq!(s[0], "USER root");
        assert!(
            s[1].contains(r#"t=/rel;"#) && s[1].contains("chown -R \\\"$(id -u user):$(id -g user)\\\""),
            "{}",
            s[1]
        );
        assert_eq!(s[2], "WORKDIR /rel", "relative to `/` when no workdir was set");
        assert!(s[3].contains("t=/rel/sub;"), "{}", s[3]);
        assert_eq!(
            s[4..],
            ["WORKDIR /rel/sub", "USER root", "WORKDIR /opt/x", "LABEL io.sandbox-template.workdir=\"/opt/x\""]
        );
    }

    #[test]
    fn a_template_base_starts_as_user_again_and_keeps_the_workdir_its_template_set() {
        let t = Template::new().from_template("parent").run_cmd("pwd");
        let opts = LocalDockerfileOptions { base_user: Some("guest".into()), ..Default::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert!(
            df.text.contains("USER root\nRUN") && df.text.contains("USER user\nWORKDIR /home/user\n"),
            "{}",
            df.text
        );
        let opts = LocalDockerfileOptions { base_workdir: Some("/srv".into()), ..opts };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert!(
            df.text
                .contains("USER user\nRUN [\"/bin/sh\",\"-c\",\"pwd\"]\nLABEL io.sandbox-template.workdir=\"/srv\"\n"),
            "{}",
            df.text
        );
        // An image's own workdir (or label) means nothing to the cloud.
        let df = LocalDockerfile::for_template(&base(), &opts).unwrap();
        assert!(df.text.ends_with("USER user\nWORKDIR /home/user\n"), "{}", df.text);
    }

    #[test]
    fn users_switch_around_steps_and_back_to_the_current_user() {
        let t = base()
            .run_cmd_with("touch /etc/marker", RunOptions::new().user("root"))
            .run_cmd("whoami")
            .make_dir_with("/srv/data", MakeDirOptions::new().user("user").mode(0o750));
        let df = dockerfile(&t);
        assert_eq!(
            steps(&df),
            [
                "USER root",
                r#"RUN ["/bin/sh","-c","touch /etc/marker"]"#,
                "USER user",
                r#"RUN ["/bin/sh","-c","whoami"]"#,
                r#"RUN ["/bin/sh","-c","mkdir -p -m 0750 /srv/data"]"#,
            ]
        );
        // `USER root` belongs to the step running as root, `USER user` to the next step.
        assert_eq!(df.origin_of(5), Some(&StepOrigin::Step(0)));
        assert_eq!(df.origin_of(6), Some(&StepOrigin::Step(0)));
        assert_eq!(df.origin_of(7), Some(&StepOrigin::Step(1)));
        assert_eq!(df.origin_of(8), Some(&StepOrigin::Step(1)));
        assert_eq!(df.origin_of(1), Some(&StepOrigin::Base));
        assert_eq!(df.origin_of(0), None);
    }

    #[test]
    fn steps_in_a_row_as_one_user_switch_once() {
        let as_root = || RunOptions::new().user("root");
        let t = base().run_cmd_with("a", as_root()).run_cmd_with("b", as_root()).set_user("user").run_cmd("c");
        let df = dockerfile(&t);
        assert_eq!(
            steps(&df),
            [
                "USER root",
                r#"RUN ["/bin/sh","-c","a"]"#,
                r#"RUN ["/bin/sh","-c","b"]"#,
                "USER user",
                r#"RUN ["/bin/sh","-c","c"]"#,
            ]
        );
        assert_eq!(df.origin_of(8), Some(&StepOrigin::Step(2)), "`set_user` of the current user is its `USER`");
    }

    #[test]
    fn copy_keeps_owner_and_mode_and_is_owned_by_the_current_user_without_one() {
        let t = base()
            .copy_with("app dir/main.sh", "/opt/app/", CopyOptions::new().user("guest").mode(0o755))
            .copy("a", "/a")
            .copy_with("b", "/b", CopyOptions::new().user("app:staff"))
            .set_user("root")
            .copy("c", "/c");
        let s = dockerfile(&t);
        let s = steps(&s);
        assert_eq!(s[0], r#"COPY --chown=guest:guest --chmod=0755 ["app dir/main.sh","/opt/app/"]"#);
        assert_eq!(s[1], r#"COPY --chown=user:user ["a","/a"]"#);
        assert_eq!(s[2], r#"COPY --chown=app:staff ["b","/b"]"#);
        assert_eq!(s.last(), Some(&r#"COPY ["c","/c"]"#));
    }

    #[test]
    fn without_copy_chmod_a_root_chmod_follows_the_copy() {
        let t = base().copy_with("bin/tool", "/usr/local/bin/", CopyOptions::new().mode(0o700));
        let opts = LocalDockerfileOptions { copy_chmod: false, ..LocalDockerfileOptions::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert!(
            df.text.ends_with(
                "COPY --chown=user:user [\"bin/tool\",\"/usr/local/bin/\"]\n\
                 USER root\n\
                 RUN [\"/bin/sh\",\"-c\",\"chmod -R 0700 /usr/local/bin/tool\"]\n\
                 USER user\n"
            ),
            "{}",
            df.text
        );
    }

    #[test]
    fn env_values_are_quoted_and_not_expanded() {
        let t = base().set_envs([("A", r#"q"uote $HOME back\slash"#), ("B", "it's")]);
        let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
        assert!(df.text.contains(r#"ENV A="q\"uote \$HOME back\\slash" B="it's""#), "{}", df.text);
    }

    #[test]
    fn novita_env_values_expand_one_instruction_per_variable() {
        let t = base()
            .for_provider(Provider::Novita)
            .set_envs([("A", r#"/a:$PATH "q" \ `t` $(x)"#), ("B", "${A}/b")])
            .set_envs_with([("C", "$A")], crate::EnvOptions::new().literal(true));
        let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
        assert!(
            df.text.ends_with("ENV A=\"/a:$PATH \\\"q\\\" \\\\ `t` \\$(x)\"\nENV B=\"${A}/b\"\nENV C=\"\\$A\"\n"),
            "{}",
            df.text
        );
        let e2b = LocalDockerfileOptions { provider: Some(Provider::E2b), ..Default::default() };
        let df = LocalDockerfile::for_template(&t, &e2b).unwrap();
        assert!(df.text.contains("ENV A=\"/a:\\$PATH"), "{}", df.text);
    }

    #[test]
    fn a_line_break_in_an_env_value_is_refused_with_its_location() {
        let t = base().set_envs([("MULTI", "a\nb")]);
        let line = line!() - 1;
        let err = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap_err().to_string();
        assert!(err.contains("`MULTI`") && err.contains(&format!("{}:{line}", file!())), "{err}");
    }

    #[test]
    fn file_steps_render_as_shell_commands_with_their_user() {
        let t = base()
            .remove_with("/tmp/x", RemoveOptions::new().recursive(true).force(true))
            .rename_with("/a", "/b", FileOptions::new().force(true).user("root"))
            .make_symlink("/b", "/c");
        let df = dockerfile(&t);
        assert_eq!(
            steps(&df),
            [
                r#"RUN ["/bin/sh","-c","rm -r -f /tmp/x"]"#,
                "USER root",
                r#"RUN ["/bin/sh","-c","mv /a /b -f"]"#,
                "USER user",
                r#"RUN ["/bin/sh","-c","ln -s /b /c"]"#,
            ]
        );
    }

    #[test]
    fn the_start_command_becomes_cmd_and_defaults_pick_the_base() {
        let t = Template::new()
            .set_user("root")
            .set_workdir("/srv/$HOME")
            .set_start_cmd("httpd -f -p 8080", wait_for_file("/tmp/ready"));
        let opts =
            LocalDockerfileOptions { default_base: "localhost/sandbox-base:latest".into(), ..Default::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert_eq!(
            steps(&df),
            [
                "USER root",
                "WORKDIR /root",
                "WORKDIR /srv/\\$HOME",
                "LABEL io.sandbox-template.workdir=\"/srv/\\$HOME\"",
                "CMD [\"/bin/sh\",\"-c\",\"httpd -f -p 8080\"]"
            ]
        );
        assert_eq!(df.origin_of(9), Some(&StepOrigin::Finalize));
    }

    #[test]
    fn workdir_quotes_are_escaped_not_interpreted() {
        let t = Template::new().set_workdir("/srv/it's \"here\"");
        let opts =
            LocalDockerfileOptions { default_base: "localhost/sandbox-base:latest".into(), ..Default::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert!(df.text.contains("WORKDIR /srv/it\\'s \\\"here\\\"\n"), "{}", df.text);
    }

    #[test]
    fn copy_targets() {
        assert_eq!(copy_target("bin/tool", "/usr/bin/", false), "/usr/bin/tool");
        assert_eq!(copy_target("bin/", "/opt/", true), "/opt/");
        assert_eq!(copy_target("*.txt", "/opt/", false), "/opt/");
        assert_eq!(copy_target("a", "/opt/b", false), "/opt/b");
    }
}
