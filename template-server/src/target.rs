//! Where a template is built: E2B, Novita, or this machine. [`build_on`] gives the same
//! [`BuildInfo`] and [`BuildEvent`](sandbox_template_runtime::cloud::BuildEvent)s on all three.
//!
//! A local build goes through the same client and API as a cloud one: an in-process `serve`
//! with the engine, in a temporary data folder. So the template is hashed, uploaded, rebuilt
//! from the wire and logged exactly as a build service sees it, and a template that builds
//! locally sends the cloud the same request.

use std::fmt;
use std::str::FromStr;

use sandbox_template_runtime::cloud::{BuildInfo, Client, CloudBuildOptions, CloudError, ConnectionOptions};
use sandbox_template_runtime::local::{Engine, EngineKind, EnginePreference, LocalError};
use sandbox_template_runtime::{Provider, Template};

use crate::serve::{ServeError, ServeOptions, blocking};
use crate::store::StoreError;

/// Where to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// E2B (`E2B_API_KEY`).
    E2b,
    /// Novita (`NOVITA_API_KEY`).
    Novita,
    /// Docker or Podman on this machine: the image is tagged with the template name.
    Local(EnginePreference),
}

impl From<Provider> for Target {
    fn from(p: Provider) -> Self {
        match p {
            Provider::E2b => Target::E2b,
            Provider::Novita => Target::Novita,
        }
    }
}

impl FromStr for Target {
    type Err = String;
    /// `e2b`, `novita`, `local` (Docker or Podman), `docker` or `podman`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "e2b" => Ok(Target::E2b),
            "novita" => Ok(Target::Novita),
            "local" => Ok(Target::Local(EnginePreference::Auto)),
            "docker" => Ok(Target::Local(EnginePreference::Docker)),
            "podman" => Ok(Target::Local(EnginePreference::Podman)),
            _ => Err(format!("unknown build target `{s}`: expected e2b, novita, local, docker or podman")),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::E2b => f.write_str("e2b"),
            Target::Novita => f.write_str("novita"),
            Target::Local(EnginePreference::Auto) => f.write_str("local"),
            Target::Local(e) => write!(f, "{e}"),
        }
    }
}

/// Why [`build_on`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The build failed, or the service could not be reached (also for local builds, whose
    /// failures come back as the build service reports them: `BuildFailed` with the step).
    #[error(transparent)]
    Build(#[from] CloudError),
    /// No engine for a local build.
    #[error(transparent)]
    Engine(#[from] LocalError),
    /// The local build service could not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Builds `template` as `name` on `target`, reporting progress to `options.on_event`.
///
/// ```no_run
/// # async fn demo() -> Result<(), sandbox_template_server::TargetError> {
/// use sandbox_template_runtime::{Template, cloud::CloudBuildOptions};
/// use sandbox_template_server::{Target, build_on};
///
/// let t = Template::new().from_image("localhost/sandbox-base:latest").run_cmd("echo hi > /hi");
/// let info = build_on(&t, "hello", "local".parse::<Target>().unwrap(), &CloudBuildOptions::default()).await?;
/// println!("image {} built", info.name);
/// # Ok(()) }
/// ```
pub async fn build_on(
    template: &Template,
    name: &str,
    target: Target,
    options: &CloudBuildOptions,
) -> Result<BuildInfo, TargetError> {
    match target {
        Target::E2b => Ok(Client::from_env(Provider::E2b)?.build(template, name, options).await?),
        Target::Novita => Ok(Client::from_env(Provider::Novita)?.build(template, name, options).await?),
        Target::Local(engine) => build_local(template, name, engine, options).await,
    }
}

async fn build_local(
    template: &Template,
    name: &str,
    engine: EnginePreference,
    options: &CloudBuildOptions,
) -> Result<BuildInfo, TargetError> {
    // Found first so a missing engine is an error, not a build that stages only.
    let found = blocking("finding the container engine", move || Engine::detect(engine)).await??;
    let choice = match found.kind() {
        EngineKind::Docker => EnginePreference::Docker,
        EngineKind::Podman => EnginePreference::Podman,
    };
    let data = tempfile::tempdir()
        .map_err(|source| ServeError::Store(StoreError::Io { path: std::env::temp_dir(), source }))?;
    // The key only guards a loopback server that lives for this call.
    let key = format!("local-{}", crate::ids::new_build_id());
    let serving = ServeOptions::new(data.path(), key.clone()).engine(choice).start().await?;
    let client =
        // As the template's provider: the request carries that provider's env semantics.
        Client::with_options(template.provider(), ConnectionOptions::with_api_key(key).api_url(serving.server.url()))?;
    let result = client.build(template, name, options).await;
    serving.server.shutdown().await;
    Ok(result?)
}
