//! Local builds with Docker or Podman: the template's image built by the engine on this machine,
//! then its start command run and its ready check awaited. No cloud account needed.
//!
//! ```no_run
//! use sandbox_template_runtime::{Template, wait_for_file};
//! use sandbox_template_runtime::local::{LocalBuildOptions, EnginePreference, Engine, LocalEvent, StartOptions};
//!
//! let template = Template::new()
//!     .from_image("localhost/sandbox-base:latest")
//!     .run_cmd("echo hello > greeting") // as `user`, in /home/user, as in the cloud
//!     .set_start_cmd("touch /tmp/ready && sleep 1000", wait_for_file("/tmp/ready"));
//!
//! let engine = Engine::detect(EnginePreference::Auto)?; // or SANDBOX_TEMPLATE_ENGINE=podman
//! let mut show = |event: LocalEvent| if let LocalEvent::Log(line) = event { println!("{line}") };
//! let image = engine.build(&template, "hello", &LocalBuildOptions::new(), &mut show)?;
//! let sandbox = engine.start(&template, &image, &StartOptions::new(), &mut show)?;
//! assert_eq!(sandbox.exec("cat greeting; id -un")?.stdout, "hello\nuser\n");
//! // dropping `sandbox` removes the container
//! # Ok::<(), sandbox_template_runtime::local::LocalError>(())
//! ```
//!
//! Users and workdirs follow the cloud: steps run as `user` in `/home/user` unless the template
//! says otherwise, `set_user` creates its user (with a home) when the image lacks it, and the last
//! user and workdir are the container's (see [`LocalDockerfile::for_template`] for what is
//! mirrored from the cloud's build service, and from where).
//!
//! What differs from the cloud, and why:
//! - steps run with `/bin/sh -c` (the cloud uses bash where the image has it);
//! - `set_user(u)` without a workdir moves to `/home/u` (`/root` for root), even where the image
//!   gives an existing `u` another home (the Dockerfile is written before the image is read); a
//!   step with its own `user` runs in the current workdir, where the cloud, when no workdir was
//!   set, runs it in that user's home;
//! - `from_template("name")` uses the local image tagged `name` (a template built locally before);
//! - `skip_cache` and `force_rebuild` rebuild the whole image (engines have no per-step switch);
//! - a COPY pattern is matched as the SDKs match it (`**` at any depth, dotfiles included) and its
//!   matches are copied into the destination folder, as Docker copies several sources;
//! - ready checks fall back to `/proc/net`, `pidof` and `wget` where `ss`, `pgrep` or `curl` are
//!   missing (see [`local_ready_command`]);
//! - registry logins: username/password and GCP keys; AWS, Huawei and OCI need their own CLIs.
//! - env values follow the provider's semantics ([`LocalBuildOptions::provider`], default the
//!   template's): E2B's are set as written; Novita's expand `$VAR` and `${VAR}` like its env
//!   script, through the engine's own `ENV` expansion, one variable per instruction. That sees
//!   the variables the image declares and the earlier values, so a variable the image does not
//!   declare (`HOME`, which the container runtime sets) is empty locally, where Novita's script,
//!   run as root, reads `HOME=/root`. Values that use shell forms beyond `$VAR`, `${VAR}`,
//!   `${VAR:-x}` and `${VAR:+x}` (`$$`, `$1`, `${#VAR}`) follow the engine's rules, not `sh`'s.
//!
//! Nothing is left running: an abandoned build (an error, a panicking callback) kills the engine's
//! CLI and every process under it; a [`Sandbox`] removes its container when dropped, and a failed
//! start removes it at once. A process killed outright cannot clean up: its containers carry
//! [`OWNER_LABEL`] and [`Engine::remove_orphans`] removes them later. (Podman may keep the
//! stopped build container of a killed build, storage only: `podman ps -a --external`.)
//!
//! Blocking: these calls run the engine's CLI and wait for it. From async code, call them in
//! `tokio::task::spawn_blocking`; [`Engine`], [`LocalEvent`] and the options are `Send`.

pub(crate) mod build;
mod dockerfile;
mod engine;
mod error;
mod login;
mod run;
mod stage;

pub use build::{DEFAULT_BASE_ENV, LocalBuildOptions};
pub use dockerfile::{DOCKERFILE_NAME, LocalDockerfile, LocalDockerfileOptions, env_semantics};
pub use engine::{ENGINE_ENV, Engine, EngineKind, EnginePreference};
pub use error::{EngineAttempt, FailedStep, LocalError, StepOrigin};
pub use run::{ExecOutput, OWNER_LABEL, Sandbox, StartOptions, local_ready_command};
pub use stage::write_build_context;

/// Progress of a local build and start, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalEvent {
    /// The engine started building the image.
    Started {
        /// The engine.
        engine: EngineKind,
        /// The image name (the template name).
        image: String,
    },
    /// The engine's build command (its CLI) runs as process `pid`; with Podman the build's steps
    /// run under it. For a caller that must stop exactly this build from another thread: killing
    /// this process and every process under it ends the build (and no other).
    EngineProcess {
        /// Its process ID.
        pid: u32,
    },
    /// The engine started a Dockerfile instruction.
    StepStarted {
        /// 1-based instruction number (`FROM` is 1).
        number: usize,
        /// How many instructions there are.
        total: usize,
        /// The template part it came from.
        origin: StepOrigin,
    },
    /// One line of the engine's output.
    Log(String),
    /// The image was built.
    Finished {
        /// Its name.
        image: String,
        /// Its ID.
        id: String,
    },
    /// The container was created and its start command launched.
    ContainerStarted {
        /// Container ID.
        id: String,
    },
    /// The ready check passed (`attempts` = 0: the template has none).
    Ready {
        /// How many times it ran.
        attempts: u32,
    },
}

/// An image built by [`Engine::build`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalImage {
    /// The name it is tagged with.
    pub name: String,
    /// The engine's image ID.
    pub id: String,
}

impl Engine {
    /// [`Engine::build`] then [`Engine::start`].
    pub fn build_and_start(
        &self,
        template: &crate::Template,
        name: &str,
        build: &LocalBuildOptions,
        start: &StartOptions,
        on_event: &mut dyn FnMut(LocalEvent),
    ) -> Result<(LocalImage, Sandbox), LocalError> {
        let image = self.build(template, name, build, on_event)?;
        let sandbox = self.start(template, &image, start, on_event)?;
        Ok((image, sandbox))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send + 'static>() {}

    #[test]
    fn the_api_can_move_to_a_blocking_thread() {
        assert_send::<Engine>();
        assert_send::<LocalEvent>();
        assert_send::<LocalBuildOptions>();
        assert_send::<StartOptions>();
        assert_send::<Sandbox>();
        assert_send::<LocalError>();
        assert_send::<crate::Template>();
    }
}
