//! The Dockerfile a local engine builds: every step of the template, nothing dropped.
//!
//! Unlike [`Template::to_dockerfile`] (the SDKs' display form), this keeps users, copy owners and
//! modes, quoting and the start command, and records which template step each Dockerfile
//! instruction came from, so an engine's `STEP 3/7` maps back to the user's source line.

use crate::step::{SourceLocation, StepKind};
use crate::template::{Base, Template};

use super::error::{LocalError, StepOrigin};

/// The file name of the generated Dockerfile inside the build context. Unusual on purpose, so it
/// cannot clash with a `Dockerfile` the user copies.
pub const DOCKERFILE_NAME: &str = ".sandbox-template.Dockerfile";

/// How to write the Dockerfile for an engine and base image.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalDockerfileOptions {
    /// The image that stands for the provider's default base ([`Base::ProviderDefault`]).
    pub default_base: String,
    /// The user the base image runs as (its `USER`; empty or `None` means root). Steps with a
    /// `user` switch to it and back to this one (or to the last `set_user`).
    pub base_user: Option<String>,
    /// Whether the engine understands `COPY --chmod` (Podman/Buildah and BuildKit do, Docker's
    /// legacy builder does not: then a root `RUN chmod` follows the copy).
    pub copy_chmod: bool,
    /// The reference to write in `FROM` instead of the template's base (e.g. the fully qualified
    /// name the image was pulled as).
    pub base_image: Option<String>,
}

impl Default for LocalDockerfileOptions {
    fn default() -> Self {
        LocalDockerfileOptions {
            default_base: crate::Provider::E2b.default_base_image().to_owned(),
            base_user: None,
            copy_chmod: true,
            base_image: None,
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
    /// The user the template is at (the base's, or the last `set_user`).
    current: String,
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
    ///     .run_cmd_with("id -un > /tmp/who", RunOptions::new().user("user"));
    /// let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
    /// assert_eq!(
    ///     df.text,
    ///     "FROM localhost/sandbox-base:latest\n\
    ///      ENV GREETING=\"say \\\"hi\\\"\"\n\
    ///      USER user\n\
    ///      RUN [\"/bin/sh\",\"-c\",\"id -un > /tmp/who\"]\n\
    ///      USER root\n"
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
    let base_user = options.base_user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".to_owned());
    let mut w = Writer { text: String::new(), origins: Vec::new(), current: base_user.clone(), effective: base_user };
    w.push(&StepOrigin::Base, format!("FROM {base_image}"));

    for (i, step) in template.steps().iter().enumerate() {
        let origin = StepOrigin::Step(i);
        let at = Some(step.location);
        match &step.kind {
            StepKind::Copy(copy) => {
                let mut flags = String::new();
                if let Some(owner) = copy.user.as_deref().filter(|u| !u.is_empty()) {
                    word(owner, "copy owner", at)?;
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
                    let cmd = format!("chmod -R {mode:04o} {}", crate::shell_quote(&target));
                    w.run(&origin, &cmd, Some("root"));
                }
            }
            StepKind::Env(pairs) => {
                let mut line = String::from("ENV");
                for (k, v) in pairs {
                    single_line(v, &format!("value of `{k}`"), at)?;
                    line.push_str(&format!(" {k}=\"{}\"", escape_double_quoted(v)));
                }
                w.push(&origin, line);
            }
            StepKind::Workdir(path) => {
                single_line(path, "workdir", at)?;
                let current = w.current.clone();
                w.become_user(&origin, &current);
                w.push(&origin, format!("WORKDIR {}", escape_unquoted(path)));
            }
            StepKind::User(user) => {
                word(user, "user", at)?;
                w.push(&origin, format!("USER {user}"));
                (w.current, w.effective) = (user.clone(), user.clone());
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
    if let Some(last) = template.steps().len().checked_sub(1) {
        let current = w.current.clone();
        w.become_user(&StepOrigin::Step(last), &current);
    }
    if let Some(start) = template.start_cmd() {
        // For `docker run IMAGE` by hand; `start` runs the command itself so it can keep the
        // container alive when the command returns, as a sandbox does.
        w.push(&StepOrigin::Finalize, format!("CMD {}", json(&["/bin/sh", "-c", start])));
    }
    Ok(LocalDockerfile { text: w.text, origins: w.origins, base_image })
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

    #[test]
    fn users_switch_around_steps_and_back_to_the_current_user() {
        let t = base()
            .set_user("user")
            .run_cmd_with("touch /etc/marker", RunOptions::new().user("root"))
            .run_cmd("whoami")
            .make_dir_with("/srv/data", MakeDirOptions::new().user("user").mode(0o750));
        let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
        assert_eq!(
            df.text,
            "FROM localhost/sandbox-base:latest\n\
             USER user\n\
             USER root\n\
             RUN [\"/bin/sh\",\"-c\",\"touch /etc/marker\"]\n\
             USER user\n\
             RUN [\"/bin/sh\",\"-c\",\"whoami\"]\n\
             RUN [\"/bin/sh\",\"-c\",\"mkdir -p -m 0750 /srv/data\"]\n"
        );
        // `USER root` belongs to the step running as root, `USER user` to the next step.
        assert_eq!(df.origin_of(3), Some(&StepOrigin::Step(1)));
        assert_eq!(df.origin_of(4), Some(&StepOrigin::Step(1)));
        assert_eq!(df.origin_of(5), Some(&StepOrigin::Step(2)));
        assert_eq!(df.origin_of(6), Some(&StepOrigin::Step(2)));
        assert_eq!(df.origin_of(1), Some(&StepOrigin::Base));
        assert_eq!(df.origin_of(0), None);
    }

    #[test]
    fn steps_in_a_row_as_one_user_switch_once() {
        let as_user = || RunOptions::new().user("user");
        let t = base().run_cmd_with("a", as_user()).run_cmd_with("b", as_user()).set_workdir("/w").run_cmd("c");
        let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
        assert_eq!(
            df.text,
            "FROM localhost/sandbox-base:latest\n\
             USER user\n\
             RUN [\"/bin/sh\",\"-c\",\"a\"]\n\
             RUN [\"/bin/sh\",\"-c\",\"b\"]\n\
             USER root\n\
             WORKDIR /w\n\
             RUN [\"/bin/sh\",\"-c\",\"c\"]\n"
        );
        assert_eq!(df.origin_of(5), Some(&StepOrigin::Step(2)), "the switch back belongs to the step needing it");
    }

    #[test]
    fn copy_keeps_owner_and_mode() {
        let t = base().copy_with("app dir/main.sh", "/opt/app/", CopyOptions::new().user("user:user").mode(0o755));
        let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
        assert!(
            df.text.ends_with("COPY --chown=user:user --chmod=0755 [\"app dir/main.sh\",\"/opt/app/\"]\n"),
            "{}",
            df.text
        );
    }

    #[test]
    fn without_copy_chmod_a_root_chmod_follows_the_copy() {
        let t = base().set_user("user").copy_with("bin/tool", "/usr/local/bin/", CopyOptions::new().mode(0o700));
        let opts = LocalDockerfileOptions { copy_chmod: false, ..LocalDockerfileOptions::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert!(
            df.text.ends_with(
                "COPY [\"bin/tool\",\"/usr/local/bin/\"]\n\
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
            .rename_with("/a", "/b", FileOptions::new().force(true).user("user"))
            .make_symlink("/b", "/c");
        let df = LocalDockerfile::for_template(&t, &LocalDockerfileOptions::default()).unwrap();
        assert!(df.text.contains("RUN [\"/bin/sh\",\"-c\",\"rm -r -f /tmp/x\"]\n"), "{}", df.text);
        assert!(df.text.contains("USER user\nRUN [\"/bin/sh\",\"-c\",\"mv /a /b -f\"]\nUSER root\n"), "{}", df.text);
        assert!(df.text.contains("RUN [\"/bin/sh\",\"-c\",\"ln -s /b /c\"]\n"), "{}", df.text);
    }

    #[test]
    fn the_start_command_becomes_cmd_and_defaults_pick_the_base() {
        let t =
            Template::new().set_workdir("/srv/$HOME").set_start_cmd("httpd -f -p 8080", wait_for_file("/tmp/ready"));
        let opts =
            LocalDockerfileOptions { default_base: "localhost/sandbox-base:latest".into(), ..Default::default() };
        let df = LocalDockerfile::for_template(&t, &opts).unwrap();
        assert_eq!(
            df.text,
            "FROM localhost/sandbox-base:latest\nWORKDIR /srv/\\$HOME\nCMD [\"/bin/sh\",\"-c\",\"httpd -f -p 8080\"]\n"
        );
        assert_eq!(df.origin_of(3), Some(&StepOrigin::Finalize));
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
