//! The template builder.

use std::path::{Path, PathBuf};

use crate::context::{BuildContext, ContextSource, EmbeddedDir};
use crate::distro::{Distro, Version};
use crate::error::Error;
use crate::provider::Provider;
use crate::ready::ReadyCmd;
use crate::registry::{GcpServiceAccount, OciCredentials, RegistryCredentials};
use crate::secret::Secret;
use crate::step::{CopyStep, SourceLocation, Step, StepKind};

/// How the start command of [`Template::beta_set_dev_container_start`] begins (the SDKs' text):
/// validation knows such a start command by it.
pub(crate) const DEV_CONTAINER_UP: &str = "sudo devcontainer up --workspace-folder ";

/// A sandbox template: a base image, build steps, and a start command with a ready check.
///
/// Methods mirror the official Python SDK (`from_python_image`, `run_cmd`, `copy`, …) and take
/// and return the template by value, so a template is one expression:
///
/// ```
/// use sandbox_template_runtime::{Template, wait_for_port};
///
/// let template = Template::new()
///     .from_python_image("3.12")
///     .set_envs([("APP_ENV", "prod")])
///     .pip_install(["fastapi", "uvicorn"])
///     .set_start_cmd("uvicorn main:app --port 8000", wait_for_port(8000));
/// assert_eq!(template.steps().len(), 2);
/// template.validate().unwrap();
/// ```
///
/// Builder methods never fail: problems with the values are reported all at once by
/// [`Template::validate`], which every export and build runs first.
#[derive(Clone, Debug)]
pub struct Template {
    pub(crate) base: Base,
    pub(crate) base_location: Option<SourceLocation>,
    pub(crate) registry: Option<RegistryCredentials>,
    pub(crate) start_cmd: Option<String>,
    pub(crate) ready_cmd: Option<ReadyCmd>,
    pub(crate) finish_location: Option<SourceLocation>,
    pub(crate) pre_boot_script: Option<String>,
    pub(crate) force: bool,
    pub(crate) force_next_layer: bool,
    pub(crate) steps: Vec<Step>,
    pub(crate) context: ContextSource,
    pub(crate) ignore_patterns: Vec<String>,
    pub(crate) provider: Provider,
    /// Read the base image's config for Novita ([`Template::inherit_config`]).
    pub(crate) inherit_config: bool,
    /// What [`Template::apply_image_config`] took from the base image's ENV.
    pub(crate) image_env: Vec<(String, String)>,
}

/// The base a template starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// The provider's default image (`e2bdev/base` on E2B, `novita/base` on Novita).
    ProviderDefault,
    /// A container image.
    Image(String),
    /// Another template of the build service.
    Template(String),
}

/// A list of strings: one string, an array, a slice or a `Vec`.
///
/// Lets `run_cmd("a")` and `run_cmd(["a", "b"])` both work, like the SDKs' `string | string[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Strings(pub Vec<String>);

impl From<&str> for Strings {
    fn from(s: &str) -> Self {
        Strings(vec![s.to_owned()])
    }
}
impl From<String> for Strings {
    fn from(s: String) -> Self {
        Strings(vec![s])
    }
}
impl From<&String> for Strings {
    fn from(s: &String) -> Self {
        Strings(vec![s.clone()])
    }
}
impl<S: AsRef<str>> From<&[S]> for Strings {
    fn from(v: &[S]) -> Self {
        Strings(v.iter().map(|s| s.as_ref().to_owned()).collect())
    }
}
impl<S: AsRef<str>, const N: usize> From<[S; N]> for Strings {
    fn from(v: [S; N]) -> Self {
        Strings(v.iter().map(|s| s.as_ref().to_owned()).collect())
    }
}
impl<S: AsRef<str>> From<Vec<S>> for Strings {
    fn from(v: Vec<S>) -> Self {
        Strings(v.iter().map(|s| s.as_ref().to_owned()).collect())
    }
}

macro_rules! options {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }
        impl $name {
            /// All options at their defaults.
            pub fn new() -> Self { Self::default() }
        }
    };
}

options!(
    /// Options of [`Template::run_cmd_with`].
    RunOptions {
        /// Run as this user.
        user: Option<String>,
    }
);
impl RunOptions {
    /// Run as `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

options!(
    /// Options of [`Template::set_envs_with`].
    EnvOptions {
        /// Set the values as written: a `$` stays a `$` on every provider (Novita included), and
        /// E2B's check for `$VAR` does not apply.
        literal: bool,
    }
);
impl EnvOptions {
    /// Set the values as written, `$` included.
    pub fn literal(mut self, yes: bool) -> Self {
        self.literal = yes;
        self
    }
}

options!(
    /// Options of [`Template::copy_with`].
    CopyOptions {
        /// Owner of the copied files (`user` or `user:group`).
        user: Option<String>,
        /// Permission bits of the copied files.
        mode: Option<u32>,
        /// Upload even if the service already has this content.
        force_upload: Option<bool>,
        /// Copy symlink targets instead of the links.
        resolve_symlinks: Option<bool>,
        /// Compress the upload (default: yes).
        gzip: Option<bool>,
    }
);
impl CopyOptions {
    /// Owner of the copied files.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
    /// Permission bits, e.g. `0o755`.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }
    /// Upload even if cached.
    pub fn force_upload(mut self, yes: bool) -> Self {
        self.force_upload = Some(yes);
        self
    }
    /// Copy what symlinks point to.
    pub fn resolve_symlinks(mut self, yes: bool) -> Self {
        self.resolve_symlinks = Some(yes);
        self
    }
    /// Compress the upload (the default). E2B only: novita-sandbox always compresses and has no
    /// such option, so validation for Novita refuses `gzip(false)` and the JSON leaves the key out.
    pub fn gzip(mut self, yes: bool) -> Self {
        self.gzip = Some(yes);
        self
    }
}

options!(
    /// Options of [`Template::remove_with`].
    RemoveOptions {
        /// `-r`.
        recursive: bool,
        /// `-f`.
        force: bool,
        /// Run as this user.
        user: Option<String>,
    }
);
impl RemoveOptions {
    /// Remove folders and their contents.
    pub fn recursive(mut self, yes: bool) -> Self {
        self.recursive = yes;
        self
    }
    /// Ignore missing files.
    pub fn force(mut self, yes: bool) -> Self {
        self.force = yes;
        self
    }
    /// Run as `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

options!(
    /// Options of [`Template::rename_with`] and [`Template::make_symlink_with`].
    FileOptions {
        /// `-f`: replace an existing destination.
        force: bool,
        /// Run as this user.
        user: Option<String>,
    }
);
impl FileOptions {
    /// Replace an existing destination.
    pub fn force(mut self, yes: bool) -> Self {
        self.force = yes;
        self
    }
    /// Run as `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

options!(
    /// Options of [`Template::make_dir_with`].
    MakeDirOptions {
        /// `-m`: permission bits.
        mode: Option<u32>,
        /// Run as this user.
        user: Option<String>,
    }
);
impl MakeDirOptions {
    /// Permission bits, e.g. `0o755`.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }
    /// Run as `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

options!(
    /// Options of [`Template::pip_install_with`].
    PipOptions {
        /// Install with `--user` instead of system-wide as root.
        user: bool,
    }
);
impl PipOptions {
    /// `true` (the default): install system-wide as root; `false`: `pip install --user`.
    pub fn global(mut self, yes: bool) -> Self {
        self.user = !yes;
        self
    }
}

options!(
    /// Options of [`Template::npm_install_with`] and [`Template::bun_install_with`].
    JsInstallOptions {
        /// Install globally (`-g`, as root).
        global: bool,
        /// Install as a dev dependency.
        dev: bool,
    }
);
impl JsInstallOptions {
    /// Install globally.
    pub fn global(mut self, yes: bool) -> Self {
        self.global = yes;
        self
    }
    /// Install as a dev dependency.
    pub fn dev(mut self, yes: bool) -> Self {
        self.dev = yes;
        self
    }
}

options!(
    /// Options of [`Template::apt_install_with`].
    AptOptions {
        /// `--no-install-recommends`.
        no_install_recommends: bool,
        /// `--fix-missing`.
        fix_missing: bool,
    }
);
impl AptOptions {
    /// Skip recommended packages.
    pub fn no_install_recommends(mut self, yes: bool) -> Self {
        self.no_install_recommends = yes;
        self
    }
    /// Continue past missing packages.
    pub fn fix_missing(mut self, yes: bool) -> Self {
        self.fix_missing = yes;
        self
    }
}

options!(
    /// Options of [`Template::git_clone_with`].
    GitCloneOptions {
        /// Destination folder.
        path: Option<String>,
        /// Branch (cloned with `--single-branch`).
        branch: Option<String>,
        /// `--depth`.
        depth: Option<u32>,
        /// Run as this user.
        user: Option<String>,
    }
);
impl GitCloneOptions {
    /// Clone into `path`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    /// Check out `branch` only.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into());
        self
    }
    /// Shallow clone.
    pub fn depth(mut self, depth: u32) -> Self {
        self.depth = Some(depth);
        self
    }
    /// Run as `user`.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

/// One entry of [`Template::copy_items`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyItem {
    /// Source(s), relative to the context.
    pub src: Strings,
    /// Destination.
    pub dest: String,
    /// Options.
    pub options: CopyOptions,
}

impl Default for Template {
    fn default() -> Self {
        Template::new()
    }
}

impl Template {
    /// An empty template: provider default base, no steps, context = the current folder.
    pub fn new() -> Self {
        Template {
            base: Base::ProviderDefault,
            base_location: None,
            registry: None,
            start_cmd: None,
            ready_cmd: None,
            finish_location: None,
            pre_boot_script: None,
            force: false,
            force_next_layer: false,
            steps: Vec::new(),
            context: ContextSource::Dir(PathBuf::from(".")),
            ignore_patterns: Vec::new(),
            provider: Provider::E2b,
            inherit_config: false,
            image_env: Vec::new(),
        }
    }

    /// The provider the template is written for (default E2B): the one whose rules
    /// [`Template::validate`] applies and whose output [`Template::to_json`] and
    /// [`Template::to_dockerfile`] print. A client or local build for another provider checks
    /// and renders for that one instead. The DSL's `provider novita;`.
    ///
    /// It matters for env values: E2B sets them as written, Novita expands `$VAR` in them.
    ///
    /// ```
    /// use sandbox_template_runtime::{Provider, Template};
    /// let t = Template::new().for_provider(Provider::Novita).set_envs([("PATH", "/opt/venv/bin:$PATH")]);
    /// assert!(t.validate().is_ok());
    /// assert!(t.validate_for(Provider::E2b).is_err());
    /// ```
    pub fn for_provider(mut self, provider: Provider) -> Self {
        self.provider = provider;
        self
    }

    /// The provider the template is written for ([`Template::for_provider`]).
    pub fn provider(&self) -> Provider {
        self.provider
    }

    // ----- context -------------------------------------------------------------------------

    /// Takes `copy` sources, `.dockerignore` and secret files from `dir` (the SDKs'
    /// `fileContextPath`). Replaces embedded files, if any.
    pub fn with_context(mut self, dir: impl Into<PathBuf>) -> Self {
        self.context = ContextSource::Dir(dir.into());
        self
    }

    /// Takes `copy` sources from files compiled into the binary.
    pub fn with_embedded_context(mut self, files: &'static EmbeddedDir) -> Self {
        self.context = ContextSource::Embedded(files);
        self
    }

    /// Adds `.dockerignore`-style patterns (after the context's own `.dockerignore`).
    pub fn with_ignore_patterns(mut self, patterns: impl Into<Strings>) -> Self {
        self.ignore_patterns.extend(patterns.into().0);
        self
    }

    /// The context folder (for an embedded context, the folder it was compiled from).
    pub fn context_dir(&self) -> &Path {
        self.context.dir()
    }

    /// Where `copy` sources come from.
    pub fn context(&self) -> &ContextSource {
        &self.context
    }

    /// The build context: the template's files (folder or embedded) with the context's
    /// `.dockerignore` and then the template's ignore patterns. Reads `.dockerignore`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
    /// # std::fs::write(dir.path().join("debug.log"), "").unwrap();
    /// use sandbox_template_runtime::Template;
    /// let t = Template::new().with_context(dir.path()).with_ignore_patterns("*.log");
    /// let ctx = t.build_context().unwrap();
    /// assert_eq!(ctx.entries("*", false).unwrap().len(), 1);
    /// ```
    pub fn build_context(&self) -> Result<BuildContext, Error> {
        BuildContext::from_source(&self.context)?.with_ignore_patterns(self.ignore_patterns.iter().cloned())
    }

    /// The template's own ignore patterns.
    pub fn ignore_patterns(&self) -> &[String] {
        &self.ignore_patterns
    }

    // ----- bases ---------------------------------------------------------------------------

    #[track_caller]
    fn set_base(mut self, base: Base) -> Self {
        self.base = base;
        self.base_location = Some(SourceLocation::caller());
        if self.force_next_layer {
            self.force = true;
        }
        self
    }

    /// Starts from a public image, e.g. `"python:3.12"`. For Novita, the image's ENV, WORKDIR
    /// and start command are inherited unless [`Template::inherit_config`] turns it off.
    #[track_caller]
    pub fn from_image(self, image: impl Into<String>) -> Self {
        self.set_base(Base::Image(image.into())).inherit_config(true)
    }

    /// Starts from a private image, logging in with a username and password (also to read its
    /// config for [`Template::inherit_config`]).
    #[track_caller]
    pub fn from_image_with_credentials(self, image: impl Into<String>, username: Secret, password: Secret) -> Self {
        let mut t = self.set_base(Base::Image(image.into())).inherit_config(true);
        t.registry = Some(RegistryCredentials::Basic { username, password });
        t
    }

    /// Starts from the provider's default base image (`e2bdev/base`, `novita/base`). Like
    /// [`Template::from_image`], it inherits the image's config on Novita (a template that names
    /// no base does not, as in novita-sandbox).
    #[track_caller]
    pub fn from_base_image(self) -> Self {
        self.set_base(Base::ProviderDefault).inherit_config(true)
    }

    /// Starts from a distro's image (see [`DISTROS`](crate::DISTROS)): `IMAGE:VERSION`, or the
    /// distro's default tag for [`Version::Default`] (or `None`).
    ///
    /// ```
    /// use sandbox_template_runtime::{Base, Distro, Template};
    ///
    /// let t = Template::new().from_distro_image(Distro::find("node").unwrap(), None);
    /// assert_eq!(t.base(), &Base::Image("node:lts".into()));
    /// ```
    #[track_caller]
    pub fn from_distro_image(self, distro: &Distro, version: impl Into<Version>) -> Self {
        self.from_image(distro.reference(version))
    }

    /// `python:VERSION` (default `3`).
    #[track_caller]
    pub fn from_python_image(self, version: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("python") }, version)
    }

    /// `node:VARIANT` (default `lts`).
    #[track_caller]
    pub fn from_node_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("node") }, variant)
    }

    /// `oven/bun:VARIANT` (default `latest`).
    #[track_caller]
    pub fn from_bun_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("bun") }, variant)
    }

    /// `ubuntu:VARIANT` (default `latest`).
    #[track_caller]
    pub fn from_ubuntu_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("ubuntu") }, variant)
    }

    /// `debian:VARIANT` (default `stable`).
    #[track_caller]
    pub fn from_debian_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("debian") }, variant)
    }

    /// `fedora:VARIANT` (default `44`).
    #[track_caller]
    pub fn from_fedora_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("fedora") }, variant)
    }

    /// `alpine:VARIANT` (default `3.24`).
    #[track_caller]
    pub fn from_alpine_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("alpine") }, variant)
    }

    /// `archlinux:VARIANT` (default `latest`).
    #[track_caller]
    pub fn from_arch_image(self, variant: impl Into<Version>) -> Self {
        self.from_distro_image(const { Distro::named("arch") }, variant)
    }

    /// Starts from another template of the build service. Registry credentials set earlier are
    /// kept, as in the SDKs.
    #[track_caller]
    pub fn from_template(self, template: impl Into<String>) -> Self {
        self.set_base(Base::Template(template.into()))
    }

    /// Starts from an image in AWS ECR.
    #[track_caller]
    pub fn from_aws_registry(
        self,
        image: impl Into<String>,
        access_key_id: Secret,
        secret_access_key: Secret,
        region: impl Into<String>,
    ) -> Self {
        let mut t = self.set_base(Base::Image(image.into()));
        t.registry = Some(RegistryCredentials::Aws { access_key_id, secret_access_key, region: region.into() });
        t
    }

    /// Starts from an image in Google Artifact/Container Registry.
    #[track_caller]
    pub fn from_gcp_registry(self, image: impl Into<String>, service_account: GcpServiceAccount) -> Self {
        let mut t = self.set_base(Base::Image(image.into()));
        t.registry = Some(RegistryCredentials::Gcp(service_account));
        t
    }

    /// Starts from an image in Huawei Cloud SWR (Novita only).
    #[track_caller]
    pub fn from_huawei_registry(
        self,
        image: impl Into<String>,
        access_key_id: Secret,
        secret_access_key: Secret,
        region: impl Into<String>,
    ) -> Self {
        let mut t = self.set_base(Base::Image(image.into()));
        t.registry = Some(RegistryCredentials::Huawei { access_key_id, secret_access_key, region: region.into() });
        t
    }

    /// Starts from an image in Oracle Cloud OCIR (Novita only).
    #[track_caller]
    pub fn from_oci_registry(self, image: impl Into<String>, credentials: OciCredentials) -> Self {
        let mut t = self.set_base(Base::Image(image.into()));
        t.registry = Some(RegistryCredentials::Oci(credentials));
        t
    }

    // ----- steps ---------------------------------------------------------------------------

    #[track_caller]
    fn push(mut self, kind: StepKind) -> Self {
        self.steps.push(Step { kind, force: self.force_next_layer, location: SourceLocation::caller() });
        self
    }

    /// Adds a step that was made elsewhere (Dockerfile import, a rebuilt wire request), keeping its
    /// location.
    pub(crate) fn push_step(mut self, kind: StepKind, location: SourceLocation) -> Self {
        self.steps.push(Step { kind, force: self.force_next_layer, location });
        self
    }

    /// Points what was added since the template had `first_step` steps (and the base or the
    /// start/ready command, if `base`/`finish`) at `location`. For interpreters of template text
    /// (`.tmpl` files), whose builder calls would otherwise all point into the interpreter; the
    /// DSL reaches it through [`crate::__private::relocate`].
    pub(crate) fn relocate(mut self, first_step: usize, base: bool, finish: bool, location: SourceLocation) -> Self {
        for step in self.steps.iter_mut().skip(first_step) {
            step.location = location;
        }
        if base {
            self.base_location = Some(location);
        }
        if finish {
            self.finish_location = Some(location);
        }
        self
    }

    /// Runs shell commands (several are joined with ` && `).
    #[track_caller]
    pub fn run_cmd(self, commands: impl Into<Strings>) -> Self {
        self.run_cmd_with(commands, RunOptions::new())
    }

    /// Runs shell commands with options (e.g. as another user).
    #[track_caller]
    pub fn run_cmd_with(self, commands: impl Into<Strings>, options: RunOptions) -> Self {
        self.push(StepKind::Run { commands: commands.into().0, user: options.user })
    }

    /// Copies files or folders from the context into the image (one step per source).
    #[track_caller]
    pub fn copy(self, src: impl Into<Strings>, dest: impl Into<String>) -> Self {
        self.copy_with(src, dest, CopyOptions::new())
    }

    /// Copies with options (owner, mode, forced upload, symlink handling, compression).
    #[track_caller]
    pub fn copy_with(mut self, src: impl Into<Strings>, dest: impl Into<String>, options: CopyOptions) -> Self {
        let dest = dest.into();
        let location = SourceLocation::caller();
        for src in src.into().0 {
            let force = options.force_upload == Some(true) || self.force_next_layer;
            self.steps.push(Step {
                kind: StepKind::Copy(CopyStep {
                    src,
                    dest: dest.clone(),
                    user: options.user.clone(),
                    mode: options.mode,
                    force_upload: options.force_upload,
                    resolve_symlinks: options.resolve_symlinks,
                    gzip: options.gzip,
                }),
                force,
                location,
            });
        }
        self
    }

    /// Several copies at once.
    #[track_caller]
    pub fn copy_items(mut self, items: impl IntoIterator<Item = CopyItem>) -> Self {
        for item in items {
            self = self.copy_with(item.src, item.dest, item.options);
        }
        self
    }

    /// Removes files (`rm`).
    #[track_caller]
    pub fn remove(self, paths: impl Into<Strings>) -> Self {
        self.remove_with(paths, RemoveOptions::new())
    }

    /// Removes files with options (`-r`, `-f`, user).
    #[track_caller]
    pub fn remove_with(self, paths: impl Into<Strings>, options: RemoveOptions) -> Self {
        self.push(StepKind::Remove {
            paths: paths.into().0,
            recursive: options.recursive,
            force: options.force,
            user: options.user,
        })
    }

    /// Renames a file (`mv`).
    #[track_caller]
    pub fn rename(self, src: impl Into<String>, dest: impl Into<String>) -> Self {
        self.rename_with(src, dest, FileOptions::new())
    }

    /// Renames with options.
    #[track_caller]
    pub fn rename_with(self, src: impl Into<String>, dest: impl Into<String>, options: FileOptions) -> Self {
        self.push(StepKind::Rename { src: src.into(), dest: dest.into(), force: options.force, user: options.user })
    }

    /// Creates folders (`mkdir -p`).
    #[track_caller]
    pub fn make_dir(self, paths: impl Into<Strings>) -> Self {
        self.make_dir_with(paths, MakeDirOptions::new())
    }

    /// Creates folders with options.
    #[track_caller]
    pub fn make_dir_with(self, paths: impl Into<Strings>, options: MakeDirOptions) -> Self {
        self.push(StepKind::MakeDir { paths: paths.into().0, mode: options.mode, user: options.user })
    }

    /// Creates a symlink at `dest` pointing to `src` (`ln -s`).
    #[track_caller]
    pub fn make_symlink(self, src: impl Into<String>, dest: impl Into<String>) -> Self {
        self.make_symlink_with(src, dest, FileOptions::new())
    }

    /// Creates a symlink with options.
    #[track_caller]
    pub fn make_symlink_with(self, src: impl Into<String>, dest: impl Into<String>, options: FileOptions) -> Self {
        self.push(StepKind::MakeSymlink {
            src: src.into(),
            dest: dest.into(),
            force: options.force,
            user: options.user,
        })
    }

    /// Sets the working folder for later steps and the sandbox.
    #[track_caller]
    pub fn set_workdir(self, path: impl Into<String>) -> Self {
        self.push(StepKind::Workdir(path.into()))
    }

    /// Sets the user for later steps and the sandbox.
    #[track_caller]
    pub fn set_user(self, user: impl Into<String>) -> Self {
        self.push(StepKind::User(user.into()))
    }

    /// Sets environment variables (in order). An empty set adds no step.
    ///
    /// What a `$` in a value means depends on the provider: E2B sets the value as written (so
    /// `PATH = "/opt/bin:$PATH"` makes a PATH holding the text `$PATH`, and [`Template::validate`]
    /// refuses it), Novita expands `$VAR` and `${VAR}` against the image's and earlier variables.
    /// Write the full value, or keep the text on purpose with [`Template::set_envs_with`] and
    /// [`EnvOptions::literal`].
    #[track_caller]
    pub fn set_envs<K: Into<String>, V: Into<String>>(self, envs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.set_envs_with(envs, EnvOptions::new())
    }

    /// [`Template::set_envs`] with options: `EnvOptions::new().literal(true)` sets the values as
    /// written, `$` included, on every provider.
    ///
    /// ```
    /// use sandbox_template_runtime::{EnvOptions, Template};
    /// let t = Template::new().set_envs_with([("PS1", "$ ")], EnvOptions::new().literal(true));
    /// assert!(t.validate().is_ok());
    /// ```
    #[track_caller]
    pub fn set_envs_with<K: Into<String>, V: Into<String>>(
        self,
        envs: impl IntoIterator<Item = (K, V)>,
        options: EnvOptions,
    ) -> Self {
        let vars: Vec<(String, String)> = envs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        if vars.is_empty() { self } else { self.push(StepKind::Env { vars, literal: options.literal }) }
    }

    /// `pip install` as root; no packages installs the project in the working folder (`.`).
    #[track_caller]
    pub fn pip_install(self, packages: impl Into<Strings>) -> Self {
        self.push(StepKind::PipInstall { packages: packages.into().0, global: true })
    }

    /// `pip install` with options: `PipOptions::new().global(false)` installs with `--user`.
    #[track_caller]
    pub fn pip_install_with(self, packages: impl Into<Strings>, options: PipOptions) -> Self {
        self.push(StepKind::PipInstall { packages: packages.into().0, global: !options.user })
    }

    /// `npm install`; no packages installs the project's `package.json`.
    #[track_caller]
    pub fn npm_install(self, packages: impl Into<Strings>) -> Self {
        self.npm_install_with(packages, JsInstallOptions::new())
    }

    /// `npm install` with `-g` / `--save-dev`.
    #[track_caller]
    pub fn npm_install_with(self, packages: impl Into<Strings>, options: JsInstallOptions) -> Self {
        self.push(StepKind::NpmInstall { packages: packages.into().0, global: options.global, dev: options.dev })
    }

    /// `bun install`; no packages installs the project's `package.json`.
    #[track_caller]
    pub fn bun_install(self, packages: impl Into<Strings>) -> Self {
        self.bun_install_with(packages, JsInstallOptions::new())
    }

    /// `bun install` with `-g` / `--dev`.
    #[track_caller]
    pub fn bun_install_with(self, packages: impl Into<Strings>, options: JsInstallOptions) -> Self {
        self.push(StepKind::BunInstall { packages: packages.into().0, global: options.global, dev: options.dev })
    }

    /// `apt-get install -y` as root, after `apt-get update`.
    #[track_caller]
    pub fn apt_install(self, packages: impl Into<Strings>) -> Self {
        self.apt_install_with(packages, AptOptions::new())
    }

    /// `apt-get install` with options.
    #[track_caller]
    pub fn apt_install_with(self, packages: impl Into<Strings>, options: AptOptions) -> Self {
        self.push(StepKind::AptInstall {
            packages: packages.into().0,
            no_install_recommends: options.no_install_recommends,
            fix_missing: options.fix_missing,
        })
    }

    /// `git clone URL`.
    #[track_caller]
    pub fn git_clone(self, url: impl Into<String>) -> Self {
        self.git_clone_with(url, GitCloneOptions::new())
    }

    /// `git clone` with a destination, branch, depth or user.
    #[track_caller]
    pub fn git_clone_with(self, url: impl Into<String>, options: GitCloneOptions) -> Self {
        self.push(StepKind::GitClone {
            url: url.into(),
            path: options.path,
            branch: options.branch,
            depth: options.depth,
            user: options.user,
        })
    }

    /// Pulls MCP servers (only on the `mcp-gateway` template).
    #[track_caller]
    pub fn add_mcp_server(self, names: impl Into<Strings>) -> Self {
        self.push(StepKind::McpServers(names.into().0))
    }

    /// Pre-builds a dev container (only on the `devcontainer` template).
    #[track_caller]
    pub fn beta_dev_container_prebuild(self, dir: impl Into<String>) -> Self {
        self.push(StepKind::DevContainerPrebuild(dir.into()))
    }

    /// Starts the dev container in `dir` when the sandbox starts (only on `devcontainer`).
    #[track_caller]
    pub fn beta_set_dev_container_start(self, dir: impl Into<String>) -> Self {
        let d = crate::quote::shell_quote(&dir.into());
        self.set_start_cmd(
            format!(
                "{DEV_CONTAINER_UP}{d} && sudo /prepare-exec.sh {d} | sudo tee /devcontainer.sh > /dev/null && sudo chmod +x /devcontainer.sh && sudo touch /devcontainer.up"
            ),
            "[ -f /devcontainer.up ]",
        )
    }

    /// Rebuilds this and every later step (and, before a base, the whole template) instead of
    /// using the build cache.
    pub fn skip_cache(mut self) -> Self {
        self.force_next_layer = true;
        self
    }

    /// Rebuilds the whole template (the build option `skip_cache`).
    pub fn force_rebuild(mut self) -> Self {
        self.force = true;
        self
    }

    // ----- start -----------------------------------------------------------------------------

    /// The command that starts the sandbox's service, and how to know it is ready.
    #[track_caller]
    pub fn set_start_cmd(mut self, command: impl Into<String>, ready: impl Into<ReadyCmd>) -> Self {
        self.start_cmd = Some(command.into());
        self.ready_cmd = Some(ready.into());
        self.finish_location = Some(SourceLocation::caller());
        self
    }

    /// A ready check without a start command.
    #[track_caller]
    pub fn set_ready_cmd(mut self, ready: impl Into<ReadyCmd>) -> Self {
        self.ready_cmd = Some(ready.into());
        self.finish_location = Some(SourceLocation::caller());
        self
    }

    /// A script Novita runs before the sandbox boots (`preBootScript`, novita's `setPatchCmd`).
    /// E2B has no such field: validation for E2B refuses it ([`Rule::NotOnProvider`](crate::Rule)).
    pub fn set_patch_cmd(mut self, script: impl Into<String>) -> Self {
        self.pre_boot_script = Some(script.into());
        self
    }

    // ----- accessors -------------------------------------------------------------------------

    /// The base.
    pub fn base(&self) -> &Base {
        &self.base
    }

    /// Registry credentials for the base image.
    pub fn registry(&self) -> Option<&RegistryCredentials> {
        self.registry.as_ref()
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The start command.
    pub fn start_cmd(&self) -> Option<&str> {
        self.start_cmd.as_deref()
    }

    /// The ready check.
    pub fn ready_cmd(&self) -> Option<&ReadyCmd> {
        self.ready_cmd.as_ref()
    }

    /// Novita's pre-boot script ([`Template::set_patch_cmd`]).
    ///
    /// ```
    /// use sandbox_template_runtime::Template;
    /// let t = Template::new().set_patch_cmd("echo patched > /etc/patched");
    /// assert_eq!(t.pre_boot_script(), Some("echo patched > /etc/patched"));
    /// ```
    pub fn pre_boot_script(&self) -> Option<&str> {
        self.pre_boot_script.as_deref()
    }

    /// Whether the whole template is rebuilt without cache.
    pub fn is_forced(&self) -> bool {
        self.force
    }

    /// Where the base was set, for error reports.
    pub fn base_location(&self) -> Option<SourceLocation> {
        self.base_location
    }

    /// Where the start/ready command was set, for error reports.
    pub fn finish_location(&self) -> Option<SourceLocation> {
        self.finish_location
    }

    /// The source location of the build service's step name: `"base"`, `"finalize"` or a
    /// 1-based step number (SPEC §E.5).
    pub fn locate_step(&self, step: &str) -> Option<SourceLocation> {
        match step {
            "base" => self.base_location,
            "finalize" => self.finish_location,
            n => {
                let i: usize = n.parse().ok()?;
                self.steps.get(i.checked_sub(1)?).map(|s| s.location)
            }
        }
    }
}
