//! From instructions to template steps: Docker's meaning of each instruction, mapped onto the
//! template model the way the Python SDK maps it (see the module docs for the table).

use std::time::Duration;

use super::reader::{self, Heredoc, Instruction, parse_json_array};
use super::words::{self, Expanded, Flag, Lookup, Unknown, Word, WordError};
use super::{Converted, ConvertedStep, DockerfileError, DockerfileOptions, DockerfileWarning};
use crate::quote::shell_quote;
use crate::ready::wait_for_timeout;
use crate::rules::{self, Rule};
use crate::step::{CopyStep, StepKind};

/// The platform sandboxes run on; the values of BuildKit's automatic platform args.
const PLATFORM_ARGS: [(&str, &str); 8] = [
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
];

/// Build args Docker hands to every `RUN` without an `ARG` (proxy settings).
const PROXY_ARGS: [&str; 10] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

const INSTRUCTIONS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// `CMD` / `ENTRYPOINT` as written.
#[derive(Clone, Debug)]
enum Command {
    Exec(Vec<String>),
    /// Shell form, with the `SHELL` in effect when it was written.
    Shell(String, Vec<String>),
}

#[derive(Clone, Debug)]
struct Arg {
    name: String,
    value: Option<String>,
}

struct Converter<'a> {
    options: &'a DockerfileOptions,
    escape: char,
    global_args: Vec<Arg>,
    /// `ARG`s of the stage, in declaration order (a later one shadows an earlier one).
    stage_args: Vec<Arg>,
    /// `ENV`s of the stage, in order.
    envs: Vec<(String, String)>,
    base: Option<(String, usize)>,
    steps: Vec<ConvertedStep>,
    entrypoint: Option<Command>,
    cmd: Option<Command>,
    cmd_line: usize,
    shell: Vec<String>,
    saw_user: bool,
    saw_workdir: bool,
    used_build_args: Vec<String>,
    warnings: Vec<DockerfileWarning>,
}

pub(super) fn convert(text: &str, options: &DockerfileOptions) -> Result<Converted, DockerfileError> {
    let parsed = reader::read(text)?;
    let mut c = Converter {
        options,
        escape: parsed.escape,
        global_args: Vec::new(),
        stage_args: Vec::new(),
        envs: Vec::new(),
        base: None,
        steps: Vec::new(),
        entrypoint: None,
        cmd: None,
        cmd_line: 0,
        shell: DEFAULT_SHELL.iter().map(|s| (*s).to_owned()).collect(),
        saw_user: false,
        saw_workdir: false,
        used_build_args: Vec::new(),
        warnings: Vec::new(),
    };
    let has_from = parsed.instructions.iter().any(|i| i.keyword == "from");
    for instruction in &parsed.instructions {
        if c.base.is_none() && !matches!(instruction.keyword.as_str(), "from" | "arg") {
            let e = if has_from {
                instruction
                    .error_at(0, format!("`{}` comes before `FROM`", instruction.keyword.to_ascii_uppercase()))
                    .with_help("only ARG may come before FROM; move this instruction after it")
            } else {
                missing_from(instruction.line(), 1)
            };
            return Err(e);
        }
        c.instruction(instruction)?;
    }
    let Some((base_image, _)) = c.base.take() else {
        let line = parsed.instructions.first().map_or(1, Instruction::line);
        return Err(missing_from(line, 1));
    };
    c.finish(base_image)
}

fn missing_from(line: usize, column: usize) -> DockerfileError {
    DockerfileError::new(line, column, "Dockerfile must contain a FROM instruction")
        .with_help("start the Dockerfile with the base image, e.g. `FROM python:3.12-slim`")
}

fn word_error(i: &Instruction, e: WordError) -> DockerfileError {
    let err = i.error_at(e.offset, e.message);
    match e.help {
        Some(h) => err.with_help(h),
        None => err,
    }
}

fn rule_error(i: &Instruction, offset: usize, rule: Rule) -> DockerfileError {
    let help = rule.help();
    let err = i.error_at(offset, rule.to_string());
    match help {
        Some(h) => err.with_help(h),
        None => err,
    }
}

/// Python's `shlex.join`.
fn shell_join(words: &[String]) -> String {
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

impl Converter<'_> {
    fn warn(&mut self, i: &Instruction, offset: usize, message: impl Into<String>) {
        let (line, column) = i.position(offset);
        self.warnings.push(DockerfileWarning { line, column, message: message.into() });
    }

    fn push(&mut self, i: &Instruction, kind: StepKind) {
        self.steps.push(ConvertedStep { kind, line: i.line() });
    }

    fn build_arg(&mut self, name: &str) -> Option<String> {
        let v = self.options.build_arg_value(name)?.to_owned();
        if !self.used_build_args.iter().any(|n| n == name) {
            self.used_build_args.push(name.to_owned());
        }
        Some(v)
    }

    // ----- variables -----------------------------------------------------------------------

    fn lookup_global(&self, name: &str) -> Lookup {
        match self.global_args.iter().rev().find(|a| a.name == name) {
            Some(Arg { value: Some(v), .. }) => Lookup::Value(v.clone()),
            Some(_) => Lookup::Unset,
            None => match PLATFORM_ARGS.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => Lookup::Value(self.options.build_arg_value(name).unwrap_or(v).to_owned()),
                None => Lookup::Unknown,
            },
        }
    }

    fn lookup_stage(&self, name: &str) -> Lookup {
        // ENV always wins over an ARG of the same name, as in Docker.
        if let Some((_, v)) = self.envs.iter().rev().find(|(k, _)| k == name) {
            return Lookup::Value(v.clone());
        }
        match self.stage_args.iter().rev().find(|a| a.name == name) {
            Some(Arg { value: Some(v), .. }) => Lookup::Value(v.clone()),
            Some(_) => Lookup::Unset,
            None => Lookup::Unknown,
        }
    }

    /// Substitutes in one word of `i` (quotes removed), reporting unresolved variables.
    fn expand(&mut self, i: &Instruction, word: &Word, global: bool) -> Result<String, DockerfileError> {
        let result = if global {
            words::expand(&word.text, word.offset, self.escape, &|n| self.lookup_global(n), Unknown::Empty)
        } else {
            words::expand(&word.text, word.offset, self.escape, &|n| self.lookup_stage(n), Unknown::Keep)
        };
        let Expanded { text, unresolved } = result.map_err(|e| word_error(i, e))?;
        for u in unresolved {
            let message = if u.declared {
                format!(
                    "`{}` is an ARG without a value and no build arg sets it: substituted with an empty string, as Docker does",
                    u.name
                )
            } else if global {
                format!(
                    "`{}` is not an ARG declared before FROM: substituted with an empty string, as Docker does",
                    u.name
                )
            } else {
                format!(
                    "`{}` is not an ARG or ENV of this Dockerfile: left as written, for the build service to take from the base image's environment",
                    u.name
                )
            };
            self.warn(i, u.offset, message);
        }
        Ok(text)
    }

    // ----- instructions --------------------------------------------------------------------

    fn instruction(&mut self, i: &Instruction) -> Result<(), DockerfileError> {
        let keyword = i.keyword.as_str();
        let (flags, rest) = words::extract_flags(i.args(), i.args_offset);
        let args_offset = i.args_offset + rest;
        let args = i.text[args_offset..].trim_end();
        let upper = keyword.to_ascii_uppercase();
        match keyword {
            "from" => self.from(i, &flags, args, args_offset),
            "arg" => {
                no_flags(i, &flags, &upper)?;
                self.arg(i, args, args_offset)
            }
            "run" => self.run(i, &flags, args, args_offset),
            "copy" | "add" => self.copy(i, &upper, &flags, args, args_offset),
            "env" => {
                no_flags(i, &flags, &upper)?;
                self.env(i, args, args_offset)
            }
            "workdir" | "user" => {
                no_flags(i, &flags, &upper)?;
                if args.is_empty() {
                    return Err(i.error_at(0, format!("{upper} needs an argument")).with_help(if keyword == "user" {
                        "name the user, e.g. `USER app`"
                    } else {
                        "name the folder, e.g. `WORKDIR /app`"
                    }));
                }
                let word = Word { offset: args_offset, text: args.to_owned() };
                let value = self.expand(i, &word, false)?;
                if keyword == "user" {
                    rules::user(&value).map_err(|r| rule_error(i, args_offset, r))?;
                    self.saw_user = true;
                    self.push(i, StepKind::User(value));
                } else {
                    rules::path("workdir", &value).map_err(|r| rule_error(i, args_offset, r))?;
                    self.saw_workdir = true;
                    self.push(i, StepKind::Workdir(value));
                }
                Ok(())
            }
            "cmd" | "entrypoint" => {
                no_flags(i, &flags, &upper)?;
                let command = self.command(i, &upper, args, args_offset)?;
                if keyword == "cmd" {
                    self.cmd = Some(command);
                    self.cmd_line = i.line();
                } else {
                    self.entrypoint = Some(command);
                }
                Ok(())
            }
            "shell" => {
                no_flags(i, &flags, &upper)?;
                match parse_json_array(args) {
                    Some(Ok(shell)) if !shell.is_empty() => {
                        self.shell = shell;
                        Ok(())
                    }
                    Some(Err(())) => Err(not_strings(i, args_offset)),
                    _ => Err(i
                        .error_at(args_offset, "SHELL needs a JSON array")
                        .with_help("write the shell and its flags as JSON, e.g. `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`")),
                }
            }
            // No effect on the files of the image, and no template equivalent.
            "expose" | "volume" | "label" | "maintainer" => Ok(()),
            "healthcheck" => {
                self.warn(
                    i,
                    0,
                    "HEALTHCHECK has no template equivalent and is skipped (to wait for readiness, give the template a ready check, e.g. `wait_for_url`)",
                );
                Ok(())
            }
            "stopsignal" => {
                self.warn(i, 0, "STOPSIGNAL has no template equivalent and is skipped");
                Ok(())
            }
            "onbuild" => {
                self.warn(i, 0, "ONBUILD only affects images built from this one and is skipped");
                Ok(())
            }
            _ => {
                let mut e =
                    i.error_at(0, format!("unknown instruction `{}`", i.text.split_whitespace().next().unwrap_or("")));
                if let Some(s) = suggestion(keyword) {
                    e = e.with_help(format!("did you mean `{}`?", s.to_ascii_uppercase()));
                } else {
                    e = e.with_help("Dockerfile instructions are FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, CMD, ENTRYPOINT, ...; a script body needs a heredoc (`RUN <<EOF`)");
                }
                Err(e)
            }
        }
    }

    fn from(&mut self, i: &Instruction, flags: &[Flag], args: &str, at: usize) -> Result<(), DockerfileError> {
        if let Some((_, line)) = &self.base {
            return Err(i
                .error_at(0, format!("Multi-stage Dockerfiles are not supported (a second FROM; the first is on line {line})"))
                .with_help("build the earlier stages into an image of their own and start from it with a single FROM, or copy their output into the build context"));
        }
        for f in flags {
            if f.name == "platform" {
                self.warn_flag(i, f, "FROM --platform is ignored: sandboxes run on linux/amd64");
            } else {
                return Err(unknown_flag(i, f, "FROM", "--platform"));
            }
        }
        let words = words::split_whitespace(args, at);
        match words.as_slice() {
            [_] => {}
            [_, as_, _] if as_.text.eq_ignore_ascii_case("as") => {}
            [] => return Err(i.error_at(at, "FROM needs an image").with_help("write e.g. `FROM python:3.12-slim`")),
            _ => {
                return Err(i
                    .error_at(words[1].offset, "FROM takes an image and optionally `AS name`")
                    .with_help("write `FROM image` or `FROM image AS name`"));
            }
        }
        let image = self.expand(i, &words[0], true)?;
        if image.is_empty() {
            return Err(i
                .error_at(words[0].offset, "the base image is empty after substituting build args")
                .with_help("give the ARG a default (`ARG NAME=value` before FROM) or pass a build arg"));
        }
        rules::image_reference(&image).map_err(|r| rule_error(i, words[0].offset, r))?;
        self.base = Some((image, i.line()));
        // Global ARGs are only visible in FROM unless redeclared after it.
        Ok(())
    }

    fn warn_flag(&mut self, i: &Instruction, f: &Flag, message: &str) {
        self.warn(i, f.offset, message);
    }

    fn arg(&mut self, i: &Instruction, args: &str, at: usize) -> Result<(), DockerfileError> {
        let words = words::split_keep_quotes(args, at, self.escape);
        if words.is_empty() {
            return Err(i.error_at(at, "ARG needs a name").with_help("write e.g. `ARG VERSION=1.0`"));
        }
        let global = self.base.is_none();
        for w in words {
            let (name, default) = match w.text.split_once('=') {
                Some((n, v)) => {
                    let value_word = Word { offset: w.offset + n.len() + 1, text: v.to_owned() };
                    (n.to_owned(), Some(value_word))
                }
                None => (w.text.clone(), None),
            };
            if name.is_empty() {
                return Err(i.error_at(w.offset, "ARG name is empty").with_help("write e.g. `ARG VERSION=1.0`"));
            }
            let value = match self.build_arg(&name) {
                Some(v) => Some(v),
                None => match default {
                    Some(d) => Some(self.expand(i, &d, global)?),
                    // Before FROM: an automatic platform arg; after FROM (redeclared): the
                    // global value.
                    None => match self.lookup_global(&name) {
                        Lookup::Value(v) => Some(v),
                        _ => None,
                    },
                },
            };
            let arg = Arg { name, value };
            if global { self.global_args.push(arg) } else { self.stage_args.push(arg) }
        }
        Ok(())
    }

    fn env(&mut self, i: &Instruction, args: &str, at: usize) -> Result<(), DockerfileError> {
        let words = words::split_keep_quotes(args, at, self.escape);
        let Some(first) = words.first() else {
            return Err(i
                .error_at(at, "ENV needs a name and a value")
                .with_help("write e.g. `ENV APP_ENV=production`"));
        };
        let mut raw: Vec<(Word, Word)> = Vec::new();
        if !first.text.contains('=') {
            // Legacy form: `ENV NAME value with spaces`.
            let name_end = args.find(char::is_whitespace).unwrap_or(args.len());
            let value = args[name_end..].trim_start();
            if value.is_empty() {
                return Err(i
                    .error_at(at, "ENV needs a value")
                    .with_help(format!("write `ENV {}=value`", &args[..name_end])));
            }
            let value_offset = at + (args.len() - value.len());
            raw.push((
                Word { offset: at, text: args[..name_end].to_owned() },
                Word { offset: value_offset, text: value.to_owned() },
            ));
        } else {
            for w in words {
                let Some((k, v)) = w.text.split_once('=') else {
                    return Err(i
                        .error_at(w.offset, format!("`{}` has no `=`", w.text))
                        .with_help("write every variable as NAME=value"));
                };
                raw.push((
                    Word { offset: w.offset, text: k.to_owned() },
                    Word { offset: w.offset + k.len() + 1, text: v.to_owned() },
                ));
            }
        }
        // Every value sees the variables as they were before this ENV (Docker's rule).
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in &raw {
            let key = self.expand(i, k, false)?;
            rules::env_key(&key).map_err(|r| rule_error(i, k.offset, r))?;
            let value = self.expand_env_value(i, v)?;
            pairs.retain(|(existing, _)| *existing != key);
            pairs.push((key, value));
        }
        self.envs.extend(pairs.iter().cloned());
        self.push(i, StepKind::Env { vars: pairs, literal: false });
        Ok(())
    }

    /// Like [`Self::expand`], without warnings for variables from the base image: `$PATH` in
    /// `ENV PATH=/opt/bin:$PATH` is the common case and the build service expands it.
    fn expand_env_value(&mut self, i: &Instruction, word: &Word) -> Result<String, DockerfileError> {
        let Expanded { text, unresolved } =
            words::expand(&word.text, word.offset, self.escape, &|n| self.lookup_stage(n), Unknown::Keep)
                .map_err(|e| word_error(i, e))?;
        for u in unresolved.into_iter().filter(|u| u.declared) {
            let message = format!(
                "`{}` is an ARG without a value and no build arg sets it: substituted with an empty string, as Docker does",
                u.name
            );
            self.warn(i, u.offset, message);
        }
        Ok(text)
    }

    /// `export NAME=value ...; ` for the ARGs a `RUN` sees in its environment under Docker.
    fn arg_env_prefix(&mut self) -> String {
        let mut vars: Vec<(String, String)> = Vec::new();
        for a in &self.stage_args {
            let Some(v) = &a.value else { continue };
            if rules::env_key(&a.name).is_err() || self.envs.iter().any(|(k, _)| *k == a.name) {
                continue;
            }
            vars.retain(|(k, _)| *k != a.name);
            vars.push((a.name.clone(), v.clone()));
        }
        for name in PROXY_ARGS {
            if vars.iter().any(|(k, _)| k == name) {
                continue;
            }
            if let Some(v) = self.build_arg(name) {
                vars.push((name.to_owned(), v));
            }
        }
        if vars.is_empty() {
            return String::new();
        }
        let assignments: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={}", shell_quote(v))).collect();
        format!("export {}; ", assignments.join(" "))
    }

    fn run(&mut self, i: &Instruction, flags: &[Flag], args: &str, at: usize) -> Result<(), DockerfileError> {
        for f in flags {
            match f.name.as_str() {
                "mount" => {
                    let spec = f.value.as_deref().unwrap_or("");
                    let kind = spec.split(',').find_map(|kv| kv.strip_prefix("type=")).unwrap_or("bind");
                    match kind {
                        "cache" | "tmpfs" => self.warn_flag(
                            i,
                            f,
                            &format!("RUN --mount=type={kind} is ignored: the command runs without the mount"),
                        ),
                        "bind" => {
                            return Err(i
                                .error_at(
                                    f.offset,
                                    "RUN --mount=type=bind is not supported: the mounted files would be missing",
                                )
                                .with_help("COPY the files into the image before this RUN instead"));
                        }
                        other => {
                            return Err(i
                                .error_at(f.offset, format!("RUN --mount=type={other} is not supported"))
                                .with_help("templates have no build-time secrets or SSH agent; fetch what the command needs in the command itself"));
                        }
                    }
                }
                "network" | "security" => {
                    self.warn_flag(i, f, &format!("RUN --{} is ignored", f.name));
                }
                _ => return Err(unknown_flag(i, f, "RUN", "--mount, --network, --security")),
            }
        }
        if args.is_empty() {
            return Err(i.error_at(at, "RUN needs a command").with_help("write e.g. `RUN apt-get update`"));
        }
        let body = match parse_json_array(args) {
            Some(Ok(argv)) => {
                if argv.is_empty() {
                    return Err(i
                        .error_at(at, "RUN needs a command")
                        .with_help("write e.g. `RUN [\"make\", \"install\"]`"));
                }
                shell_join(&argv)
            }
            Some(Err(())) => return Err(not_strings(i, at)),
            None => {
                self.warn_malformed_json(i, "RUN", args, at);
                self.shell_form_run(i, args)
            }
        };
        let prefix = self.arg_env_prefix();
        self.push(i, StepKind::Run { commands: vec![format!("{prefix}{body}")], user: None });
        Ok(())
    }

    fn warn_malformed_json(&mut self, i: &Instruction, upper: &str, args: &str, at: usize) {
        if args.starts_with('[') {
            self.warn(
                i,
                at,
                format!("{upper} arguments start with `[` but are not a JSON array of strings: run as a shell command, as Docker does"),
            );
        }
    }

    /// A shell-form `RUN` (with its heredocs) as one shell command.
    fn shell_form_run(&self, i: &Instruction, args: &str) -> String {
        let custom_shell = self.shell.iter().map(String::as_str).ne(DEFAULT_SHELL);
        let wrap = |script: String| {
            if custom_shell {
                let mut argv = self.shell.clone();
                argv.push(script);
                shell_join(&argv)
            } else {
                script
            }
        };
        match i.heredocs.as_slice() {
            [] => wrap(args.to_owned()),
            // `RUN <<EOF` alone: the body is the script (BuildKit runs it with the shell, or
            // as an executable file when it starts with `#!`).
            [doc] if args == doc.word => {
                let content = if doc.chomp { chomp(&doc.content) } else { doc.content.clone() };
                if content.starts_with("#!") {
                    let delimiter = delimiter_for("E2B_HEREDOC_SCRIPT", &content);
                    format!(
                        "E2B_HEREDOC_FILE=$(mktemp) && cat >\"$E2B_HEREDOC_FILE\" <<'{delimiter}' && chmod +x \"$E2B_HEREDOC_FILE\" && \"$E2B_HEREDOC_FILE\"; E2B_HEREDOC_STATUS=$?; rm -f \"$E2B_HEREDOC_FILE\"; exit $E2B_HEREDOC_STATUS\n{content}{delimiter}"
                    )
                } else {
                    wrap(content)
                }
            }
            // Anything else: the shell reads the heredocs itself.
            docs => {
                let mut full = args.to_owned();
                for d in docs {
                    full.push('\n');
                    full.push_str(&d.content);
                    full.push_str(&d.name);
                }
                wrap(full)
            }
        }
    }

    fn command(&mut self, i: &Instruction, upper: &str, args: &str, at: usize) -> Result<Command, DockerfileError> {
        match parse_json_array(args) {
            Some(Ok(argv)) => Ok(Command::Exec(argv)),
            Some(Err(())) => Err(not_strings(i, at)),
            None if args.is_empty() => Err(i
                .error_at(at, format!("{upper} needs a command"))
                .with_help(format!("write e.g. `{upper} [\"python\", \"app.py\"]`"))),
            None => {
                self.warn_malformed_json(i, upper, args, at);
                Ok(Command::Shell(args.to_owned(), self.shell.clone()))
            }
        }
    }

    fn copy(
        &mut self,
        i: &Instruction,
        upper: &str,
        flags: &[Flag],
        args: &str,
        at: usize,
    ) -> Result<(), DockerfileError> {
        let is_add = upper == "ADD";
        let mut user = None;
        let mut mode = None;
        for f in flags {
            match f.name.as_str() {
                "from" => {
                    return Err(i
                        .error_at(f.offset, format!("{upper} --from is not supported (multi-stage builds are not supported)"))
                        .with_help("copy from the build context instead: put the files there, or build the other stage into a base image"));
                }
                "chown" => {
                    let value = self.flag_value(i, f)?;
                    let value = self.expand(i, &Word { offset: f.offset, text: value }, false)?;
                    rules::user(&value).map_err(|r| rule_error(i, f.offset, r))?;
                    user = Some(value);
                }
                "chmod" => {
                    let value = self.flag_value(i, f)?;
                    let value = self.expand(i, &Word { offset: f.offset, text: value }, false)?;
                    let parsed = u32::from_str_radix(&value, 8).ok().filter(|_| !value.is_empty());
                    let Some(m) = parsed else {
                        return Err(i
                            .error_at(f.offset, format!("--chmod=`{value}` is not an octal mode"))
                            .with_help("write the permission bits in octal, e.g. `--chmod=755`"));
                    };
                    rules::file_mode(m).map_err(|r| rule_error(i, f.offset, r))?;
                    mode = Some(m);
                }
                "link" => {
                    self.warn_flag(i, f, &format!("{upper} --link is ignored: the files are copied the same way"))
                }
                "parents" | "exclude" => {
                    return Err(i
                        .error_at(f.offset, format!("{upper} --{} is not supported", f.name))
                        .with_help("copy each folder with its own COPY, and leave files out with .dockerignore"));
                }
                "checksum" | "keep-git-dir" | "unpack" if is_add => {
                    return Err(i
                        .error_at(f.offset, format!("ADD --{} is not supported", f.name))
                        .with_help("download or unpack in a RUN step instead"));
                }
                _ => {
                    return Err(unknown_flag(i, f, upper, "--chown, --chmod (and --link, which is ignored)"));
                }
            }
        }
        let words = match parse_json_array(args) {
            Some(Ok(items)) => {
                // JSON form: no heredocs; positions point at the array. Docker substitutes in
                // the items like in the shell form.
                items.into_iter().map(|text| Word { offset: at, text }).collect()
            }
            Some(Err(())) => return Err(not_strings(i, at)),
            None => words::split_whitespace(args, at),
        };
        let Some((dest_word, sources)) = words.split_last().filter(|(_, s)| !s.is_empty()) else {
            return Err(i
                .error_at(at, format!("{upper} needs a source and a destination"))
                .with_help(format!("write e.g. `{upper} app/ /app/`")));
        };
        let dest = self.expand(i, dest_word, false)?;
        rules::path("copy destination", &dest).map_err(|r| rule_error(i, dest_word.offset, r))?;
        if sources.len() > 1 && !dest.ends_with('/') {
            return Err(i
                .error_at(
                    dest_word.offset,
                    format!("{upper} with more than one source needs a folder destination ending in `/`"),
                )
                .with_help(format!("write `{dest}/`")));
        }
        for src_word in sources {
            if let Some(doc) = i.heredocs.iter().find(|d| d.offset == src_word.offset && d.word == src_word.text) {
                let script = self.heredoc_file(doc, &dest, user.as_deref(), mode);
                self.push(i, StepKind::Run { commands: vec![script], user: Some("root".to_owned()) });
                continue;
            }
            let src = self.expand(i, src_word, false)?;
            if is_add {
                check_add_source(i, src_word.offset, &src)?;
            }
            // Docker resolves sources inside the context: `/app.py` is the context's `app.py`.
            let trimmed = src.trim_start_matches('/');
            let src = if trimmed.is_empty() { ".".to_owned() } else { trimmed.to_owned() };
            rules::copy_source(&src).map_err(|r| rule_error(i, src_word.offset, r))?;
            self.push(
                i,
                StepKind::Copy(CopyStep {
                    src,
                    dest: dest.clone(),
                    user: user.clone(),
                    mode,
                    force_upload: None,
                    resolve_symlinks: None,
                    gzip: None,
                }),
            );
        }
        Ok(())
    }

    fn flag_value(&self, i: &Instruction, f: &Flag) -> Result<String, DockerfileError> {
        match &f.value {
            Some(v) if !v.is_empty() => Ok(v.clone()),
            _ => Err(i
                .error_at(f.offset, format!("--{} needs a value", f.name))
                .with_help(format!("write `--{}=value`", f.name))),
        }
    }

    /// `COPY <<NAME dest`: a root `RUN` that writes the heredoc to `dest` (or `dest/NAME` when
    /// `dest` is a folder), in the Python SDK's form. An unquoted delimiter lets the build's
    /// shell substitute variables, as Docker substitutes them in the body; this Dockerfile's
    /// ARGs (which are not in the build's environment) are substituted here.
    fn heredoc_file(&self, doc: &Heredoc, dest: &str, user: Option<&str>, mode: Option<u32>) -> String {
        let content = if doc.chomp { chomp(&doc.content) } else { doc.content.clone() };
        let delimiter = delimiter_for(&format!("E2B_HEREDOC_{}", doc.name), &content);
        let (body, opener) = if doc.expand {
            (self.heredoc_body_for_shell(&content), delimiter.clone())
        } else {
            (content, format!("'{delimiter}'"))
        };
        let dest = if dest.ends_with('/') { format!("{dest}{}", doc.name) } else { dest.to_owned() };
        let mut after = String::new();
        if let Some(u) = user {
            after.push_str(&format!(" && chown {} \"$E2B_HEREDOC_DEST\"", shell_quote(u)));
        }
        if let Some(m) = mode {
            after.push_str(&format!(" && chmod {} \"$E2B_HEREDOC_DEST\"", crate::step::octal(m)));
        }
        format!(
            "E2B_HEREDOC_DEST={}\nif [ -d \"$E2B_HEREDOC_DEST\" ]; then E2B_HEREDOC_DEST=\"$E2B_HEREDOC_DEST\"/{}; fi\nmkdir -p \"$(dirname \"$E2B_HEREDOC_DEST\")\" && cat <<{opener} >\"$E2B_HEREDOC_DEST\"{after}\n{body}{delimiter}",
            shell_quote(&dest),
            shell_quote(&doc.name),
        )
    }

    /// The body of an unquoted shell heredoc that produces what Docker's substitution produces:
    /// ARG references are replaced here (escaped for the shell), ENV and base-image variables
    /// are left to the shell, and command substitution (which Docker does not do) is escaped.
    fn heredoc_body_for_shell(&self, content: &str) -> String {
        let mut out = String::with_capacity(content.len());
        let chars: Vec<char> = content.chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            match c {
                '`' => out.push_str("\\`"),
                '$' if chars.get(k + 1) == Some(&'(') => out.push_str("\\$"),
                '$' => {
                    // `$NAME` or `${NAME}` naming an ARG (and no ENV): substitute.
                    let (name, len) = reference_at(&chars[k + 1..]);
                    let arg = name.as_deref().and_then(|n| {
                        if self.envs.iter().any(|(key, _)| key == n) {
                            return None;
                        }
                        self.stage_args.iter().rev().find(|a| a.name == n)
                    });
                    match arg {
                        Some(a) => {
                            for v in a.value.as_deref().unwrap_or("").chars() {
                                if matches!(v, '\\' | '$' | '`') {
                                    out.push('\\');
                                }
                                out.push(v);
                            }
                            k += 1 + len;
                            continue;
                        }
                        None => out.push('$'),
                    }
                }
                _ => out.push(c),
            }
            k += 1;
        }
        out
    }

    fn finish(mut self, base_image: String) -> Result<Converted, DockerfileError> {
        let mut steps = vec![
            ConvertedStep { kind: StepKind::User("root".into()), line: 0 },
            ConvertedStep { kind: StepKind::Workdir("/".into()), line: 0 },
        ];
        steps.append(&mut self.steps);
        if !self.saw_user {
            steps.push(ConvertedStep { kind: StepKind::User("user".into()), line: 0 });
        }
        if !self.saw_workdir {
            steps.push(ConvertedStep { kind: StepKind::Workdir("/home/user".into()), line: 0 });
        }
        let start_cmd = self.start_cmd();
        for (name, _) in &self.options.build_args {
            // Docker does not report unused predefined args (platform, proxies) either.
            let predefined = PLATFORM_ARGS.iter().any(|(n, _)| n == name) || PROXY_ARGS.contains(&name.as_str());
            if !predefined && !self.used_build_args.contains(name) {
                self.warnings.push(DockerfileWarning {
                    line: 0,
                    column: 0,
                    message: format!("build arg `{name}` is not declared by any ARG and is not used"),
                });
            }
        }
        let ready_cmd = start_cmd.as_ref().map(|_| wait_for_timeout(Duration::from_secs(20)));
        let mut declared_args: Vec<String> = Vec::new();
        for a in self.global_args.iter().chain(&self.stage_args) {
            if !declared_args.contains(&a.name) {
                declared_args.push(a.name.clone());
            }
        }
        Ok(Converted { base_image, steps, start_cmd, ready_cmd, warnings: self.warnings, declared_args })
    }

    /// `ENTRYPOINT` and `CMD` combined as Docker combines them into the container's command.
    fn start_cmd(&mut self) -> Option<String> {
        fn shell_text(script: &str, shell: &[String]) -> String {
            if shell.iter().map(String::as_str).eq(DEFAULT_SHELL) {
                script.to_owned()
            } else {
                let mut argv = shell.to_vec();
                argv.push(script.to_owned());
                shell_join(&argv)
            }
        }
        match (&self.entrypoint, &self.cmd) {
            (Some(Command::Shell(script, shell)), cmd) => {
                if cmd.is_some() {
                    self.warnings.push(DockerfileWarning {
                        line: self.cmd_line,
                        column: 1,
                        message: "CMD is ignored because ENTRYPOINT uses the shell form, as in Docker".into(),
                    });
                }
                Some(shell_text(script, shell))
            }
            (Some(Command::Exec(ep)), cmd) if !ep.is_empty() => {
                let mut argv = ep.clone();
                match cmd {
                    Some(Command::Exec(c)) => argv.extend(c.iter().cloned()),
                    Some(Command::Shell(script, shell)) => {
                        argv.extend(shell.iter().cloned());
                        argv.push(script.clone());
                    }
                    None => {}
                }
                Some(shell_join(&argv))
            }
            (_, Some(Command::Exec(c))) if !c.is_empty() => Some(shell_join(c)),
            (_, Some(Command::Shell(script, shell))) => Some(shell_text(script, shell)),
            _ => None,
        }
    }
}

fn no_flags(i: &Instruction, flags: &[Flag], upper: &str) -> Result<(), DockerfileError> {
    match flags.first() {
        Some(f) => Err(unknown_flag(i, f, upper, "none")),
        None => Ok(()),
    }
}

fn unknown_flag(i: &Instruction, f: &Flag, upper: &str, accepted: &str) -> DockerfileError {
    i.error_at(f.offset, format!("unknown flag `--{}` for {upper}", f.name))
        .with_help(format!("{upper} accepts these flags: {accepted}"))
}

fn not_strings(i: &Instruction, at: usize) -> DockerfileError {
    i.error_at(at, "a JSON array here must contain only strings")
        .with_help("quote every item, e.g. `[\"python\", \"-m\", \"http.server\", \"8000\"]`")
}

/// ADD features with no template equivalent: remote sources and archive unpacking.
fn check_add_source(i: &Instruction, offset: usize, src: &str) -> Result<(), DockerfileError> {
    let lower = src.to_ascii_lowercase();
    let is_git = lower.starts_with("git@") || lower.starts_with("git://") || lower.ends_with(".git");
    if lower.starts_with("http://") || lower.starts_with("https://") || is_git || lower.starts_with("ssh://") {
        let help = if is_git {
            format!("clone it in a RUN step instead (the template's `git_clone`), e.g. `RUN git clone {src} /src`")
        } else {
            format!("download it in a RUN step instead, e.g. `RUN curl -fsSL {src} -o /path/to/file`")
        };
        return Err(i.error_at(offset, format!("ADD from a remote URL is not supported: {src}")).with_help(help));
    }
    const ARCHIVES: [&str; 12] = [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.z",
        ".taz",
    ];
    if ARCHIVES.iter().any(|ext| lower.ends_with(ext)) {
        return Err(i
            .error_at(offset, format!("ADD would unpack the archive `{src}`, which templates cannot do"))
            .with_help(format!("COPY the archive and unpack it in a RUN step: `COPY {src} /tmp/` then `RUN tar -xf /tmp/<name> -C <dest>`")));
    }
    Ok(())
}

/// Removes leading tabs from every line (`<<-`).
fn chomp(content: &str) -> String {
    content.split_inclusive('\n').map(|l| l.trim_start_matches('\t')).collect()
}

/// `preferred`, made longer until no line of `content` equals it.
fn delimiter_for(preferred: &str, content: &str) -> String {
    let mut d = preferred.to_owned();
    while content.lines().any(|l| l == d) {
        d.push('_');
    }
    d
}

/// A `NAME` or `{NAME}` at the start of `chars` (after a `$`): the name and how many chars
/// it spans. Modifier forms (`${NAME:-x}`) are not matched and are left to the shell.
fn reference_at(chars: &[char]) -> (Option<String>, usize) {
    let is_name = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    if chars.first() == Some(&'{') {
        let name: String = chars[1..].iter().take_while(|c| is_name(c)).collect();
        if !name.is_empty() && chars.get(1 + name.len()) == Some(&'}') {
            let len = name.len() + 2;
            return (Some(name), len);
        }
        return (None, 0);
    }
    if chars.first().is_some_and(char::is_ascii_digit) {
        return (None, 0);
    }
    let name: String = chars.iter().take_while(|c| is_name(c)).collect();
    if name.is_empty() { (None, 0) } else { (Some(name.clone()), name.len()) }
}

/// The known instruction closest to `keyword`, for "did you mean".
fn suggestion(keyword: &str) -> Option<&'static str> {
    crate::suggest::did_you_mean(keyword, INSTRUCTIONS)
}
