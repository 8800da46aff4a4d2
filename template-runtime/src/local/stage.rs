//! The build context sent to the engine: a tar stream on the engine's stdin holding the generated
//! Dockerfile, a `.dockerignore`, and the template's COPY sources.
//!
//! Interim: this stages each COPY source's top folder (up to the first glob character) and lets the
//! engine apply the ignore rules (the context's `.dockerignore` plus the template's patterns, written
//! into the archive's `.dockerignore`) and expand globs, exactly as `docker build` does. When the
//! `context` module's enumeration and tar writer land, swap `write_context`'s source walk for them
//! (exact entries, ignore rules applied before sending); the Dockerfile/`.dockerignore` entries and
//! the stdin plumbing stay as they are.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::Error;
use crate::step::StepKind;
use crate::template::Template;

use super::dockerfile::{DOCKERFILE_NAME, DockerfileOptions, LocalDockerfile, dockerfile};
use super::error::LocalError;

/// Writes the build context of `template` as a tar stream to `out`: the generated Dockerfile (as
/// [`DOCKERFILE_NAME`]), a `.dockerignore`, and the COPY sources. What an engine receives; with no
/// engine it can be kept and built later with
/// `docker build -f .sandbox-template.Dockerfile - < context.tar`.
///
/// ```
/// use template_runtime::Template;
/// use template_runtime::local::{DockerfileOptions, write_build_context};
///
/// let mut tar = Vec::new();
/// let t = Template::new().from_image("localhost/sandbox-base:latest").run_cmd("echo hi");
/// let df = write_build_context(&t, &DockerfileOptions::default(), &mut tar).unwrap();
/// assert_eq!(df.origins.len(), 2);
/// assert!(tar.len() >= 3 * 512);
/// ```
pub fn write_build_context(
    template: &Template,
    options: &DockerfileOptions,
    out: impl Write,
) -> Result<LocalDockerfile, LocalError> {
    template.validate().map_err(Error::from)?;
    let sources = sources(template)?;
    let df = dockerfile(template, options)?;
    write_context(template, &df.text, &sources, out)
        .map_err(|source| LocalError::Io { what: "cannot write the build context".into(), source })?;
    Ok(df)
}

/// The COPY sources to stage: paths relative to the context, each with whether symlinks are
/// followed. A source is staged from its longest glob-free prefix.
pub(super) fn sources(template: &Template) -> Result<Vec<(PathBuf, bool)>, Error> {
    let context = template.context_dir();
    let mut roots: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    for step in template.steps() {
        let StepKind::Copy(copy) = &step.kind else { continue };
        let mut root = PathBuf::new();
        let mut globbed = false;
        for part in Path::new(&copy.src).components() {
            match part {
                Component::Normal(p) if p.to_string_lossy().contains(['*', '?', '[']) => {
                    globbed = true;
                    break;
                }
                Component::Normal(p) => root.push(p),
                // `validate` refuses absolute and escaping sources; `.` adds nothing.
                _ => {}
            }
        }
        let full = context.join(&root);
        if !globbed && std::fs::symlink_metadata(&full).is_err() {
            return Err(Error::NoFiles { path: full, location: Some(step.location) });
        }
        roots.insert((root, copy.resolve_symlinks == Some(true)));
    }
    // A root inside another one is already staged.
    let all: Vec<(PathBuf, bool)> = roots.into_iter().collect();
    let kept =
        all.iter().filter(|(p, _)| !all.iter().any(|(q, _)| q != p && p.starts_with(q))).cloned().collect::<Vec<_>>();
    Ok(kept)
}

/// Writes the build context to `out`: Dockerfile, `.dockerignore`, then the staged sources.
pub(super) fn write_context(
    template: &Template,
    dockerfile: &str,
    sources: &[(PathBuf, bool)],
    out: impl Write,
) -> std::io::Result<()> {
    let context = template.context_dir();
    let mut tar = tar::Builder::new(out);
    tar.mode(tar::HeaderMode::Deterministic);
    append_bytes(&mut tar, DOCKERFILE_NAME, dockerfile.as_bytes())?;
    append_bytes(&mut tar, ".dockerignore", dockerignore(template).as_bytes())?;
    for (root, follow) in sources {
        tar.follow_symlinks(*follow);
        let full = context.join(root);
        let name = if root.as_os_str().is_empty() { Path::new(".") } else { root.as_path() };
        let meta = if *follow { std::fs::metadata(&full) } else { std::fs::symlink_metadata(&full) };
        match meta {
            Ok(m) if m.is_dir() => append_dir(&mut tar, &full, name, *follow)?,
            Ok(_) => tar.append_path_with_name(&full, name)?,
            // A glob whose folder is missing matches nothing; the engine says so.
            Err(_) => {}
        }
    }
    tar.finish()
}

/// Adds a folder's entries, leaving out the context's own `.dockerignore` (already written).
fn append_dir<W: Write>(tar: &mut tar::Builder<W>, full: &Path, name: &Path, follow: bool) -> std::io::Result<()> {
    if name != Path::new(".") {
        return tar.append_dir_all(name, full);
    }
    for entry in std::fs::read_dir(full)? {
        let entry = entry?;
        let file_name = entry.file_name();
        if file_name == ".dockerignore" || file_name == DOCKERFILE_NAME {
            continue;
        }
        let path = entry.path();
        let is_dir = if follow { path.is_dir() } else { entry.file_type()?.is_dir() };
        if is_dir {
            tar.append_dir_all(&file_name, &path)?;
        } else {
            tar.append_path_with_name(&path, &file_name)?;
        }
    }
    Ok(())
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)
}

/// The context's `.dockerignore`, then the template's own patterns, then the generated Dockerfile.
fn dockerignore(template: &Template) -> String {
    let mut text = std::fs::read_to_string(template.context_dir().join(".dockerignore")).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for p in template.ignore_patterns() {
        text.push_str(p);
        text.push('\n');
    }
    text.push_str(DOCKERFILE_NAME);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_staged_from_their_glob_free_prefix_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app/src")).unwrap();
        std::fs::write(dir.path().join("app/src/main.py"), "print(1)").unwrap();
        std::fs::write(dir.path().join("README"), "hi").unwrap();
        let t = Template::new()
            .with_context(dir.path())
            .from_image("localhost/sandbox-base")
            .copy("app/src/*.py", "/app/")
            .copy("app", "/app/")
            .copy("README", "/README");
        let s = sources(&t).unwrap();
        assert_eq!(s, vec![(PathBuf::from("README"), false), (PathBuf::from("app"), false)]);
    }

    #[test]
    fn a_missing_source_names_the_copy_call() {
        let dir = tempfile::tempdir().unwrap();
        let t = Template::new().with_context(dir.path()).from_image("localhost/sandbox-base").copy("nope.txt", "/x");
        let line = line!() - 1;
        let err = sources(&t).unwrap_err().to_string();
        assert!(err.contains("nope.txt") && err.contains(&format!(":{line}:")), "{err}");
    }

    #[test]
    fn the_archive_holds_dockerfile_ignore_rules_and_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "*.log").unwrap();
        let t = Template::new()
            .with_context(dir.path())
            .with_ignore_patterns("secret/")
            .from_image("localhost/sandbox-base")
            .copy("app", "/app/");
        let mut buf = Vec::new();
        write_context(&t, "FROM x\n", &sources(&t).unwrap(), &mut buf).unwrap();
        let mut archive = tar::Archive::new(buf.as_slice());
        let mut names = Vec::new();
        let mut ignore = String::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            if name == ".dockerignore" {
                std::io::Read::read_to_string(&mut e, &mut ignore).unwrap();
            }
            names.push(name);
        }
        assert_eq!(names, [DOCKERFILE_NAME, ".dockerignore", "app/", "app/a.txt"]);
        assert_eq!(ignore, format!("*.log\nsecret/\n{DOCKERFILE_NAME}\n"));
    }
}
