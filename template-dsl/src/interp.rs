//! The interpreter: a checked template becomes a runtime [`Template`] by the same builder calls
//! the lowering writes out as code. `.tmpl` files (CLI, build.rs checks) go through here, so a
//! `.tmpl` file and the same text in `template!` give the same template and the same JSON.

use std::time::Duration;

use sandbox_template_runtime::{
    AptOptions, CopyOptions, EnvOptions, FileOptions, GcpServiceAccount, GitCloneOptions, JsInstallOptions,
    MakeDirOptions, OciCredentials, PipOptions, ReadyCmd, RemoveOptions, RunOptions, Secret, SourceLocation, Strings,
    Template, Version, wait_for_file, wait_for_port, wait_for_process, wait_for_timeout, wait_for_url,
    wait_for_url_status,
};

use crate::model::{BaseOp, Checked, ContextDir, OpKind, ReadyOp, SecretSrc, Str};

/// A `{expr}` reached the interpreter (the checker refuses them in `.tmpl` files, so this means
/// the checked template came from Rust code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsRust;

fn s(v: &Str) -> Result<String, NeedsRust> {
    v.value().ok_or(NeedsRust)
}

fn list(v: &[Str]) -> Result<Strings, NeedsRust> {
    v.iter().map(s).collect::<Result<Vec<_>, _>>().map(Strings)
}

fn secret(v: &SecretSrc) -> Result<Secret, NeedsRust> {
    Ok(match v {
        SecretSrc::Env(var) => Secret::from_env(s(var)?),
        SecretSrc::File(path) => Secret::from_file(s(path)?),
        SecretSrc::Expr(..) => return Err(NeedsRust),
    })
}

fn ready(r: &ReadyOp) -> Result<ReadyCmd, NeedsRust> {
    Ok(match r {
        ReadyOp::Port(p) => wait_for_port(*p),
        ReadyOp::Url(u, None) => wait_for_url(s(u)?),
        ReadyOp::Url(u, Some(st)) => wait_for_url_status(s(u)?, *st),
        ReadyOp::Process(n) => wait_for_process(s(n)?),
        ReadyOp::File(f) => wait_for_file(s(f)?),
        ReadyOp::Timeout(ms) => wait_for_timeout(Duration::from_millis(*ms)),
        ReadyOp::Command(c) => ReadyCmd::from(s(c)?),
    })
}

/// Builds the template, recording `file` and each statement's line and column as the source
/// location of its steps, base and start command (what build errors name). Embedded contexts are
/// not interpreted (`embed;` is refused in `.tmpl` files); the context is the folder the checker
/// resolved.
pub fn interpret_in(c: &Checked, file: Option<&'static str>) -> Result<Template, NeedsRust> {
    let mut t = Template::new();
    match &c.context {
        ContextDir::Dir(d) => t = t.with_context(d),
        ContextDir::Expr(..) => return Err(NeedsRust),
        ContextDir::Unknown => {}
    }
    if !c.ignore.is_empty() {
        t = t.with_ignore_patterns(list(&c.ignore)?);
    }
    if let Some(provider) = c.provider {
        t = t.for_provider(provider);
    }
    for op in &c.ops {
        let first_step = t.steps().len();
        t = match &op.kind {
            OpKind::SkipCache => t.skip_cache(),
            OpKind::Base(b) => match b {
                BaseOp::Distro(distro, v) => {
                    let v = match v {
                        Some(v) => Version::Tag(s(v)?),
                        None => Version::Default,
                    };
                    t.from_distro_image(distro, v)
                }
                BaseOp::Default => t.from_base_image(),
                BaseOp::Image(image, creds, inherit) => {
                    let t = match creds {
                        None => t.from_image(s(image)?),
                        Some((u, p)) => t.from_image_with_credentials(s(image)?, secret(u)?, secret(p)?),
                    };
                    if *inherit { t } else { t.inherit_config(false) }
                }
                BaseOp::Aws { image, access_key_id, secret_access_key, region } => {
                    t.from_aws_registry(s(image)?, secret(access_key_id)?, secret(secret_access_key)?, s(region)?)
                }
                BaseOp::Huawei { image, access_key_id, secret_access_key, region } => {
                    t.from_huawei_registry(s(image)?, secret(access_key_id)?, secret(secret_access_key)?, s(region)?)
                }
                BaseOp::Gcp { image, service_account } => {
                    let sa = match service_account {
                        SecretSrc::File(path) => GcpServiceAccount::file(s(path)?),
                        other => GcpServiceAccount::json(secret(other)?),
                    };
                    t.from_gcp_registry(s(image)?, sa)
                }
                BaseOp::Oci { image, tenancy_ocid, user_ocid, fingerprint, private_key, region } => {
                    let credentials = OciCredentials {
                        tenancy_ocid: s(tenancy_ocid)?,
                        user_ocid: s(user_ocid)?,
                        fingerprint: s(fingerprint)?,
                        private_key: secret(private_key)?,
                        region: s(region)?,
                    };
                    t.from_oci_registry(s(image)?, credentials)
                }
                BaseOp::Template(name) => t.from_template(s(name)?),
            },
            OpKind::Run { commands, user } => {
                let mut o = RunOptions::new();
                if let Some(u) = user {
                    o = o.user(s(u)?);
                }
                t.run_cmd_with(list(commands)?, o)
            }
            OpKind::Copy { sources, dest, user, mode, force_upload, resolve_symlinks, gzip } => {
                let mut o = CopyOptions::new();
                if let Some(u) = user {
                    o = o.user(s(u)?);
                }
                o.mode = *mode;
                o.force_upload = *force_upload;
                o.resolve_symlinks = *resolve_symlinks;
                o.gzip = *gzip;
                t.copy_with(list(sources)?, s(dest)?, o)
            }
            OpKind::Env { vars, literal } => {
                let pairs = vars.iter().map(|(k, v)| Ok((k.clone(), s(v)?))).collect::<Result<Vec<_>, NeedsRust>>()?;
                t.set_envs_with(pairs, EnvOptions::new().literal(*literal))
            }
            OpKind::Workdir(p) => t.set_workdir(s(p)?),
            OpKind::User(u) => t.set_user(s(u)?),
            OpKind::Pip { packages, global } => match global {
                None => t.pip_install(list(packages)?),
                Some(g) => t.pip_install_with(list(packages)?, PipOptions::new().global(*g)),
            },
            OpKind::Npm { packages, global, dev } => {
                t.npm_install_with(list(packages)?, JsInstallOptions::new().global(*global).dev(*dev))
            }
            OpKind::Bun { packages, global, dev } => {
                t.bun_install_with(list(packages)?, JsInstallOptions::new().global(*global).dev(*dev))
            }
            OpKind::Apt { packages, no_install_recommends, fix_missing } => t.apt_install_with(
                list(packages)?,
                AptOptions::new().no_install_recommends(*no_install_recommends).fix_missing(*fix_missing),
            ),
            OpKind::Git { url, dest, branch, depth, user } => {
                let mut o = GitCloneOptions::new();
                if let Some(d) = dest {
                    o = o.path(s(d)?);
                }
                if let Some(b) = branch {
                    o = o.branch(s(b)?);
                }
                if let Some(d) = depth {
                    o = o.depth(*d);
                }
                if let Some(u) = user {
                    o = o.user(s(u)?);
                }
                t.git_clone_with(s(url)?, o)
            }
            OpKind::Mkdir { paths, mode, user } => {
                let mut o = MakeDirOptions::new();
                o.mode = *mode;
                if let Some(u) = user {
                    o = o.user(s(u)?);
                }
                t.make_dir_with(list(paths)?, o)
            }
            OpKind::Remove { paths, recursive, force, user } => {
                let mut o = RemoveOptions::new().recursive(*recursive).force(*force);
                if let Some(u) = user {
                    o = o.user(s(u)?);
                }
                t.remove_with(list(paths)?, o)
            }
            OpKind::Rename { src, dest, force, user } | OpKind::Symlink { src, dest, force, user } => {
                let mut o = FileOptions::new().force(*force);
                if let Some(u) = user {
                    o = o.user(s(u)?);
                }
                if matches!(op.kind, OpKind::Rename { .. }) {
                    t.rename_with(s(src)?, s(dest)?, o)
                } else {
                    t.make_symlink_with(s(src)?, s(dest)?, o)
                }
            }
            OpKind::McpServers(names) => t.add_mcp_server(list(names)?),
            OpKind::DevContainerPrebuild(dir) => t.beta_dev_container_prebuild(s(dir)?),
            OpKind::DevContainerStart(dir) => t.beta_set_dev_container_start(s(dir)?),
            OpKind::PatchCmd(script) => t.set_patch_cmd(s(script)?),
            OpKind::Start { command, ready: r } => t.set_start_cmd(s(command)?, ready(r)?),
            OpKind::Ready(r) => t.set_ready_cmd(ready(r)?),
        };
        if let Some(file) = file {
            let at = op.span.start();
            let location = SourceLocation { file, line: at.line as u32, column: at.column as u32 + 1 };
            let base = matches!(op.kind, OpKind::Base(_));
            let finish = matches!(op.kind, OpKind::Start { .. } | OpKind::Ready(_) | OpKind::DevContainerStart(_));
            t = sandbox_template_runtime::__private::relocate(t, first_step, base, finish, location);
        }
    }
    Ok(t)
}
