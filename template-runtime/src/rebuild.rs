//! A build request turned back into a [`Template`] ([`Template::from_build_request`]), so a
//! build service builds exactly what a client sent.
//!
//! The wire form has five step kinds (`RUN`, `COPY`, `ENV`, `WORKDIR`, `USER`): the SDKs render
//! package installs, `git clone` and the file operations as `RUN` commands before sending, so
//! mapping these five back covers every builder call.

use std::path::Path;

use crate::provider::Provider;
use crate::ready::ReadyCmd;
use crate::registry::RegistryCredentials;
use crate::secret::Secret;
use crate::step::{CopyStep, SourceLocation, StepKind};
use crate::template::Template;
use crate::wire::{BuildRequest, StepError, WireStep};

/// Where a step of a build request came from, for engine errors: `<build request>:N`, N the
/// step's 1-based number.
fn location(number: usize) -> SourceLocation {
    SourceLocation { file: "<build request>", line: u32::try_from(number).unwrap_or(u32::MAX), column: 1 }
}

fn failure(number: usize, message: String) -> StepError {
    StepError { step: number.to_string(), message }
}

fn arg(step: &WireStep, i: usize) -> Option<String> {
    step.args.get(i).filter(|a| !a.is_empty()).cloned()
}

impl Template {
    /// The template a build request describes, reading COPY sources from `context` (where the
    /// request's uploads were unpacked). The inverse of [`Template::build_request`]: the
    /// template's request is `request` again.
    ///
    /// A request with neither `fromImage` nor `fromTemplate` gets the provider's default base.
    /// Errors name the step (`base`, `1`..) and what is wrong with it.
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// use sandbox_template_runtime::wire::BuildRequest;
    ///
    /// let request: BuildRequest =
    ///     serde_json::from_str(r#"{"fromImage":"alpine:3","steps":[{"type":"ENV","args":["A"]}]}"#).unwrap();
    /// let e = Template::from_build_request(&request, std::path::Path::new(".")).unwrap_err();
    /// assert_eq!(e.step, "1");
    /// assert!(e.message.contains("name/value pairs"));
    /// ```
    pub fn from_build_request(request: &BuildRequest, context: &Path) -> Result<Template, StepError> {
        template_from_request(request, context)
    }
}

fn template_from_request(request: &BuildRequest, context: &Path) -> Result<Template, StepError> {
    let mut t = Template::new().with_context(context);
    t = match (&request.from_image, &request.from_template) {
        (Some(image), _) => t.from_image(image.clone()),
        (None, Some(template)) => t.from_template(template.clone()),
        (None, None) => t.from_base_image(),
    };
    t.base_location = Some(location(0));
    if let Some(registry) = &request.from_image_registry {
        t.registry = Some(registry_from_wire(registry)?);
    }
    for (i, step) in request.steps.iter().enumerate() {
        let number = i + 1;
        let kind = match step.kind.as_str() {
            "RUN" => {
                let Some(command) = step.args.first().cloned() else {
                    return Err(failure(number, "RUN needs a command as its first argument".to_owned()));
                };
                StepKind::Run { commands: vec![command], user: arg(step, 1) }
            }
            "COPY" => {
                let (Some(src), Some(dest)) = (arg(step, 0), arg(step, 1)) else {
                    return Err(failure(number, "COPY needs [src, dest, user, mode] arguments".to_owned()));
                };
                let mode = match arg(step, 3) {
                    None => None,
                    Some(m) => Some(u32::from_str_radix(&m, 8).map_err(|_| {
                        failure(number, format!("COPY mode {m:?} is not an octal number (e.g. \"0755\")"))
                    })?),
                };
                StepKind::Copy(CopyStep {
                    src,
                    dest,
                    user: arg(step, 2),
                    mode,
                    force_upload: step.force_upload,
                    resolve_symlinks: step.resolve_symlinks,
                    gzip: step.gzip,
                })
            }
            "ENV" => {
                if step.args.len() % 2 != 0 {
                    return Err(failure(number, "ENV needs name/value pairs: an even number of arguments".to_owned()));
                }
                StepKind::Env {
                    vars: step.args.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect(),
                    literal: false,
                }
            }
            "WORKDIR" => match arg(step, 0) {
                Some(p) => StepKind::Workdir(p),
                None => return Err(failure(number, "WORKDIR needs a path".to_owned())),
            },
            "USER" => match arg(step, 0) {
                Some(u) => StepKind::User(u),
                None => return Err(failure(number, "USER needs a user name".to_owned())),
            },
            other => {
                return Err(failure(
                    number,
                    format!("unknown step type `{other}`: expected RUN, COPY, ENV, WORKDIR or USER"),
                ));
            }
        };
        t.force_next_layer = step.force;
        t = t.push_step(kind, location(number));
    }
    t.force_next_layer = false;
    // The request's provider decides what a `$` in an env value means. Novita's requests end with
    // the step writing its env script (novita-sandbox and this crate alike); a request without it
    // is E2B's, whose build service sets values as written: they are marked literal, so the local
    // engine keeps them so and validation does not refuse what E2B accepts. A pre-boot script or a
    // Huawei/Oracle registry is novita-sandbox's alone (e2b has neither), so it marks Novita too.
    let novita_only =
        request.pre_boot_script.is_some() || t.registry.as_ref().is_some_and(|r| matches!(r.kind(), "huawei" | "oci"));
    if novita_only || request.steps.last().is_some_and(is_novita_env_step) {
        t.provider = Provider::Novita;
    } else {
        for step in &mut t.steps {
            if let StepKind::Env { literal, .. } = &mut step.kind {
                *literal = true;
            }
        }
    }
    t.force = request.force;
    t.start_cmd = request.start_cmd.clone();
    t.ready_cmd = request.ready_cmd.as_deref().map(ready_from_wire);
    t.pre_boot_script = request.pre_boot_script.clone();
    if t.start_cmd.is_some() || t.ready_cmd.is_some() {
        t.finish_location = Some(location(request.steps.len() + 1));
    }
    Ok(t)
}

/// Novita's env-files step: a root `RUN` that decodes and runs `/tmp/.novita-image-env.sh`.
fn is_novita_env_step(step: &WireStep) -> bool {
    step.kind == "RUN"
        && step.args.get(1).is_some_and(|u| u == "root")
        && step.args.first().is_some_and(|c| {
            c.starts_with("echo ") && c.ends_with("| base64 -d > /tmp/.novita-image-env.sh && sh /tmp/.novita-image-env.sh && rm -f /tmp/.novita-image-env.sh")
        })
}

/// `fromImageRegistry` as sent. Only `"type": "registry"` (username and password) is mapped:
/// the engine logs in with it. The cloud-specific kinds need their providers' CLIs locally.
fn registry_from_wire(value: &serde_json::Value) -> Result<RegistryCredentials, StepError> {
    let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str).map(|s| Secret::new(s.to_owned()));
    match value.get("type").and_then(serde_json::Value::as_str) {
        Some("registry") => match (field("username"), field("password")) {
            (Some(username), Some(password)) => Ok(RegistryCredentials::Basic { username, password }),
            _ => Err(StepError {
                step: "base".to_owned(),
                message: "`fromImageRegistry` of type `registry` needs `username` and `password`".to_owned(),
            }),
        },
        other => Err(StepError {
            step: "base".to_owned(),
            message: format!(
                "registry credentials of type `{}` cannot be used by a local build; use a username and \
                 password (`from_image_with_credentials`), or log the engine in to the registry yourself",
                other.unwrap_or("(none)")
            ),
        }),
    }
}

/// A ready command as sent, mapped back to [`ReadyCmd::Port`] when it is the SDKs' port check
/// (E2B's `ss -Htuln` or Novita's `ss -tuln | grep`), so the local engine can use its fallback
/// where the image has no `ss`. Anything else runs as sent.
fn ready_from_wire(command: &str) -> ReadyCmd {
    let port = command
        .strip_prefix("[ -n \"$(ss -Htuln sport = :")
        .and_then(|r| r.strip_suffix(")\" ]"))
        .or_else(|| command.strip_prefix("ss -tuln | grep :"))
        .and_then(|p| p.parse::<u16>().ok());
    match port {
        Some(p) => ReadyCmd::Port(p),
        None => ReadyCmd::Command(command.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Provider, wait_for_port};

    fn request(json: &str) -> BuildRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_wire_step_round_trips_to_the_same_request() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/a.txt"), "a").unwrap();
        let original = Template::new()
            .with_context(dir.path())
            .from_image("busybox:latest")
            .set_envs([("A", "1"), ("B", "two words")])
            .run_cmd_with("id", crate::RunOptions::new().user("root"))
            .copy_with("app", "/app", crate::CopyOptions::new().user("user").mode(0o755))
            .set_workdir("/app")
            .set_user("user")
            .make_dir("/data")
            .remove("/tmp/x")
            .set_start_cmd("sleep 100", wait_for_port(8000));
        let wire = original.to_json().unwrap();
        let rebuilt = template_from_request(&request(&wire), dir.path()).unwrap();
        assert_eq!(rebuilt.to_json().unwrap(), wire);
        assert_eq!(rebuilt.ready_cmd(), Some(&ReadyCmd::Port(8000)));
    }

    #[test]
    fn basic_registry_credentials_are_kept_and_others_refused_without_echoing_secrets() {
        let t = template_from_request(
            &request(r#"{"fromImage":"r.example/i","fromImageRegistry":{"type":"registry","username":"u","password":"hunter2"}}"#),
            Path::new("."),
        )
        .unwrap();
        assert!(matches!(t.registry(), Some(RegistryCredentials::Basic { .. })));
        assert!(!format!("{t:?}").contains("hunter2"));
        let e = template_from_request(
            &request(r#"{"fromImage":"x","fromImageRegistry":{"type":"aws","awsAccessKeyId":"AKIA","awsSecretAccessKey":"s3cr3t","awsRegion":"r"}}"#),
            Path::new("."),
        )
        .unwrap_err();
        assert_eq!(e.step, "base");
        assert!(e.message.contains("type `aws`") && !e.message.contains("s3cr3t"), "{}", e.message);
    }

    #[test]
    fn novita_port_checks_and_custom_commands_are_recognised() {
        assert_eq!(ready_from_wire(&wait_for_port(3000).command(Provider::Novita)), ReadyCmd::Port(3000));
        assert_eq!(ready_from_wire("curl -f localhost"), ReadyCmd::Command("curl -f localhost".into()));
        assert_eq!(ready_from_wire("ss -tuln | grep :99999"), ReadyCmd::Command("ss -tuln | grep :99999".into()));
    }

    #[test]
    fn malformed_steps_name_the_step_and_the_fix() {
        let e = template_from_request(
            &request(r#"{"steps":[{"type":"RUN","args":["x"]},{"type":"ENV","args":["A"]}]}"#),
            Path::new("."),
        )
        .unwrap_err();
        assert_eq!(e.step, "2");
        assert!(e.message.contains("even number"), "{}", e.message);
        let e =
            template_from_request(&request(r#"{"steps":[{"type":"ADD","args":["x"]}]}"#), Path::new(".")).unwrap_err();
        assert!(e.message.contains("unknown step type `ADD`"), "{}", e.message);
        let e = template_from_request(
            &request(r#"{"steps":[{"type":"COPY","args":["a","/b","","rwx"]}]}"#),
            Path::new("."),
        )
        .unwrap_err();
        assert!(e.message.contains("not an octal number"), "{}", e.message);
    }
}
