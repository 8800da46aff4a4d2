//! `Template::validate`: the rules of [`crate::rules`] applied to a whole template.

use crate::error::{ValidationError, ValidationErrors};
use crate::provider::Provider;
use crate::ready::ReadyCmd;
use crate::registry::RegistryCredentials;
use crate::rules::{self, Rule};
use crate::step::{SourceLocation, StepKind};
use crate::template::{Base, Template};

struct Collector(Vec<ValidationError>);

impl Collector {
    fn check(&mut self, location: Option<SourceLocation>, result: Result<(), Rule>) {
        if let Err(rule) = result {
            self.0.push(ValidationError { rule, location });
        }
    }
}

fn optional_user(user: &Option<String>) -> Result<(), Rule> {
    // An empty user means "no user", as in the SDKs (`runCmd(cmd, { user: '' })`).
    match user.as_deref() {
        Some(u) if !u.is_empty() => rules::user(u),
        _ => Ok(()),
    }
}

fn paths(what: &'static str, paths: &[String]) -> Result<(), Rule> {
    if paths.is_empty() {
        return Err(Rule::EmptyPath { what });
    }
    paths.iter().try_for_each(|p| rules::path(what, p))
}

fn packages(list: &[String]) -> Result<(), Rule> {
    list.iter().try_for_each(|p| rules::package_name(p))
}

fn required(field: &'static str, value: &crate::Secret) -> Result<(), Rule> {
    // Only values handed over in code can be checked now; env vars and files are read (and
    // checked) when the build runs.
    if value.is_empty_value() { Err(Rule::EmptyCredential(field)) } else { Ok(()) }
}

impl Template {
    /// Checks every value in the template against the rules of [`crate::rules`] and reports all
    /// problems at once, each with the builder call (or `template!` statement) that added it.
    /// Provider-specific rules are those of the template's provider
    /// ([`Template::for_provider`], default E2B); see [`Template::validate_for`].
    ///
    /// File-system checks (does a copy source match anything?) happen when the context is read,
    /// by [`Template::to_json`] and builds.
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// let t = Template::new().from_image("python:3.12").set_envs([("1BAD", "x")]).copy("/etc/passwd", "/x");
    /// let errors = t.validate().unwrap_err();
    /// assert_eq!(errors.0.len(), 2);
    /// ```
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_for(self.provider)
    }

    /// [`Template::validate`] for a build on `provider`: E2B sets env values as written, so a value
    /// that refers to a variable (`PATH = "/opt/bin:$PATH"`) is refused unless it is literal
    /// ([`EnvOptions::literal`](crate::EnvOptions::literal)); Novita expands it.
    ///
    /// ```
    /// use sandbox_template_runtime::{Provider, Rule, Template};
    /// let t = Template::new().set_envs([("PATH", "/opt/venv/bin:$PATH")]);
    /// let errors = t.validate_for(Provider::E2b).unwrap_err();
    /// assert!(matches!(&errors.0[0].rule, Rule::EnvReference { key, .. } if key == "PATH"));
    /// assert!(t.validate_for(Provider::Novita).is_ok());
    /// ```
    pub fn validate_for(&self, provider: Provider) -> Result<(), ValidationErrors> {
        let mut c = Collector(Vec::new());
        let at = self.base_location;
        match &self.base {
            Base::ProviderDefault => {}
            Base::Image(image) => {
                c.check(at, rules::image_reference(image));
                c.check(at, rules::base_on_provider(provider, image));
            }
            Base::Template(name) => {
                c.check(at, if name.trim().is_empty() { Err(Rule::EmptyTemplateName) } else { Ok(()) })
            }
        }
        if let Some(registry) = &self.registry {
            c.check(at, rules::registry_kind(provider, registry.kind()));
            match registry {
                RegistryCredentials::Basic { username, password } => {
                    if username.is_empty_value() || password.is_empty_value() {
                        c.check(at, Err(Rule::IncompleteCredentials));
                    }
                }
                RegistryCredentials::Aws { access_key_id, secret_access_key, region }
                | RegistryCredentials::Huawei { access_key_id, secret_access_key, region } => {
                    c.check(at, required("access_key_id", access_key_id));
                    c.check(at, required("secret_access_key", secret_access_key));
                    c.check(at, if region.is_empty() { Err(Rule::EmptyCredential("region")) } else { Ok(()) });
                }
                RegistryCredentials::Gcp(sa) => c.check(at, required("service_account_json", sa.secret())),
                RegistryCredentials::Oci(oci) => {
                    c.check(at, required("private_key", &oci.private_key));
                    for (name, v) in [
                        ("tenancy_ocid", &oci.tenancy_ocid),
                        ("user_ocid", &oci.user_ocid),
                        ("fingerprint", &oci.fingerprint),
                        ("region", &oci.region),
                    ] {
                        c.check(at, if v.is_empty() { Err(Rule::EmptyCredential(name)) } else { Ok(()) });
                    }
                }
            }
        }
        // The base's package manager is known from its image reference (`None`: not checked).
        let base_image = match &self.base {
            Base::Image(image) => Some(image.as_str()),
            _ => None,
        };
        let base_template = match &self.base {
            Base::Template(name) => Some(name.as_str()),
            _ => None,
        };
        // The user steps run as: the cloud's default for every base (a `from_template` base too:
        // the cloud sets it again after the parent's steps), then each `set_user`.
        let mut current_user = rules::DEFAULT_USER;
        // Whether a step ran a command that could have installed `pip`, `npm` or `bun` (a `run`,
        // any install): until then the base's own tools are all there is.
        let mut installed = false;
        for step in &self.steps {
            let tool = match &step.kind {
                StepKind::PipInstall { .. } => Some("pip"),
                StepKind::NpmInstall { .. } => Some("npm"),
                StepKind::BunInstall { .. } => Some("bun"),
                _ => None,
            };
            if let (Some(tool), Some(image), false) = (tool, base_image, installed) {
                c.check(Some(step.location), rules::tool_in_base(tool, image));
            }
            installed |= tool.is_some() || matches!(step.kind, StepKind::Run { .. } | StepKind::AptInstall { .. });
            let at = Some(step.location);
            match &step.kind {
                StepKind::Run { commands, user } => {
                    c.check(at, if commands.is_empty() { Err(Rule::EmptyCommand) } else { Ok(()) });
                    let runs_as = user.as_deref().filter(|u| !u.is_empty()).unwrap_or(current_user);
                    for cmd in commands {
                        c.check(at, rules::command(cmd));
                        c.check(at, rules::package_install_as(cmd, runs_as));
                        if let Some(image) = base_image {
                            c.check(at, rules::package_manager_fits(cmd, image));
                        }
                    }
                    c.check(at, optional_user(user));
                }
                StepKind::Copy(copy) => {
                    c.check(at, rules::copy_source(&copy.src));
                    c.check(at, rules::path("copy destination", &copy.dest));
                    c.check(at, optional_user(&copy.user));
                    c.check(at, rules::copy_gzip(provider, copy.gzip));
                    if let Some(mode) = copy.mode {
                        c.check(at, rules::file_mode(mode));
                    }
                }
                StepKind::Env { vars, literal } => {
                    for rule in rules::env_keys(vars.iter().map(|(k, _)| k.as_str())) {
                        c.check(at, Err(rule));
                    }
                    for (k, v) in vars {
                        c.check(at, rules::env_value(provider, *literal, k, v));
                    }
                }
                StepKind::Workdir(p) => c.check(at, rules::path("workdir", p)),
                StepKind::User(u) => {
                    c.check(at, rules::user(u));
                    current_user = u;
                }
                StepKind::PipInstall { packages: list, .. }
                | StepKind::NpmInstall { packages: list, .. }
                | StepKind::BunInstall { packages: list, .. } => c.check(at, packages(list)),
                StepKind::AptInstall { packages: list, .. } => {
                    c.check(at, if list.is_empty() { Err(Rule::NoPackages) } else { packages(list) });
                    if let Some(image) = base_image {
                        c.check(at, rules::package_manager_fits("apt install", image));
                    }
                }
                StepKind::GitClone { url, path, branch, depth, user } => {
                    c.check(at, if url.trim().is_empty() { Err(Rule::EmptyUrl) } else { Ok(()) });
                    if let Some(p) = path {
                        c.check(at, rules::path("clone destination", p));
                    }
                    if let Some(b) = branch {
                        c.check(at, rules::path("branch", b));
                    }
                    c.check(at, if *depth == Some(0) { Err(Rule::InvalidDepth) } else { Ok(()) });
                    c.check(at, optional_user(user));
                }
                StepKind::Remove { paths: list, user, .. } => {
                    // `removable` is `rules::path` and more, so each path is checked once.
                    if list.is_empty() {
                        c.check(at, Err(Rule::EmptyPath { what: "path to remove" }));
                    }
                    for path in list {
                        c.check(at, rules::removable(path));
                    }
                    c.check(at, optional_user(user));
                }
                StepKind::Rename { src, dest, user, .. } | StepKind::MakeSymlink { src, dest, user, .. } => {
                    c.check(at, rules::path("source path", src));
                    c.check(at, rules::path("destination path", dest));
                    c.check(at, optional_user(user));
                }
                StepKind::MakeDir { paths: list, mode, user } => {
                    c.check(at, paths("folder", list));
                    if let Some(m) = mode {
                        c.check(at, rules::file_mode(*m));
                    }
                    c.check(at, optional_user(user));
                }
                StepKind::McpServers(names) => {
                    c.check(at, rules::mcp_base(base_template));
                    // Each name on its own: a flag or an empty name is not looked up as well.
                    for name in names {
                        c.check(at, rules::package_name(name).and_then(|()| rules::mcp_server_name(provider, name)));
                    }
                }
                StepKind::DevContainerPrebuild(dir) => {
                    c.check(at, rules::dev_container_base(base_template));
                    c.check(at, rules::path("dev container folder", dir));
                }
            }
        }
        if self.pre_boot_script.is_some() {
            c.check(None, rules::patch_cmd(provider));
        }
        let at = self.finish_location;
        if let Some(start) = &self.start_cmd {
            c.check(at, rules::command(start));
            // `beta_set_dev_container_start`, which the SDKs refuse on another base.
            if start.starts_with(crate::template::DEV_CONTAINER_UP) {
                c.check(at, rules::dev_container_base(base_template));
            }
        }
        match &self.ready_cmd {
            Some(ReadyCmd::Port(p)) => c.check(at, rules::port(u32::from(*p))),
            Some(ReadyCmd::Url { url, status }) => {
                c.check(at, if url.is_empty() { Err(Rule::EmptyUrl) } else { Ok(()) });
                c.check(at, rules::http_status(u32::from(*status)));
            }
            Some(ReadyCmd::File(p)) => c.check(at, rules::path("ready file", p)),
            Some(ReadyCmd::Process(p)) => c.check(at, rules::command(p)),
            Some(ReadyCmd::Command(cmd)) => c.check(at, rules::command(cmd)),
            Some(ReadyCmd::Timeout(_)) | None => {}
        }
        if c.0.is_empty() { Ok(()) } else { Err(ValidationErrors(c.0)) }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Rule, RunOptions, Template};

    fn rules(t: &Template) -> Vec<(Rule, u32)> {
        t.validate()
            .err()
            .map(|e| e.0.into_iter().map(|e| (e.rule, e.location.unwrap().line)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_package_install_is_refused_unless_the_step_runs_as_root() {
        let refused = |user: &str| Rule::PackageManagerNotRoot { command: "apt-get install".into(), user: user.into() };
        // The cloud's default user, then `set_user`, then a per-step user.
        let t = Template::new().from_image("ubuntu:24.04").run_cmd("apt-get install -y curl");
        assert_eq!(rules(&t), vec![(refused("user"), line!() - 1)]);
        let t = Template::new()
            .from_image("ubuntu:24.04")
            .set_user("root")
            .run_cmd("apt-get install -y curl")
            .set_user("guest")
            .run_cmd(["echo ok", "apt-get install -y git"]);
        assert_eq!(rules(&t), vec![(refused("guest"), line!() - 1)]);
        let t = Template::new()
            .from_image("ubuntu:24.04")
            .set_user("guest")
            .run_cmd_with("apt-get install -y curl", RunOptions::new().user("root"))
            .run_cmd_with("apt-get install -y git", RunOptions::new().user(""))
            .apt_install(["vim"]);
        assert_eq!(rules(&t), vec![(refused("guest"), line!() - 2)]);
        // A template base starts as the cloud's default user too.
        let t = Template::new().from_template("my-base").run_cmd("apk add curl");
        let errors = t.validate().unwrap_err().to_string();
        assert!(errors.contains("`apk add` needs root, but this step runs as `user`"), "{errors}");
        assert!(errors.contains("(user = \"root\")"), "{errors}");
    }
}
