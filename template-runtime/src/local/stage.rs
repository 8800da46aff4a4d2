//! The build context sent to the engine: one tar stream on the engine's stdin holding the generated
//! Dockerfile, a `.dockerignore` for it, and exactly the entries the template's COPY steps select.
//!
//! The entries come from [`BuildContext`], the same enumeration that computes `filesHash` and the
//! cloud uploads (globs, `.dockerignore` and the template's ignore patterns, symlink handling,
//! embedded contexts), so a local build copies the same files as a cloud build. The engine then
//! expands each COPY source again, within those entries only.

use std::io::Write;

use crate::context::{BuildContext, Entry};
use crate::error::Error;
use crate::step::StepKind;
use crate::template::Template;

use super::dockerfile::{DOCKERFILE_NAME, LocalDockerfile, LocalDockerfileOptions, dockerfile_with};
use super::error::LocalError;

/// Writes the build context of `template` as a tar stream to `out`: the generated Dockerfile (as
/// [`DOCKERFILE_NAME`]), a `.dockerignore`, and the COPY sources. What an engine receives; with no
/// engine it can be kept and built later with
/// `docker build -f .sandbox-template.Dockerfile - < context.tar`.
///
/// ```
/// use sandbox_template_runtime::Template;
/// use sandbox_template_runtime::local::{LocalDockerfileOptions, write_build_context};
///
/// let mut tar = Vec::new();
/// let t = Template::new().from_image("localhost/sandbox-base:latest").run_cmd("echo hi");
/// let df = write_build_context(&t, &LocalDockerfileOptions::default(), &mut tar).unwrap();
/// assert_eq!(df.origins.len(), 2);
/// assert!(tar.len() >= 3 * 512);
/// ```
pub fn write_build_context(
    template: &Template,
    options: &LocalDockerfileOptions,
    out: impl Write,
) -> Result<LocalDockerfile, LocalError> {
    template.validate_for(options.provider.unwrap_or(template.provider())).map_err(Error::from)?;
    let staged = Staged::of(template)?;
    let df = staged.dockerfile(template, options)?;
    staged.write(&df.text, out)?;
    Ok(df)
}

/// The context of a template and the entries its COPY steps select.
pub(super) struct Staged {
    context: BuildContext,
    entries: Vec<Entry>,
    /// Per step: for a COPY whose source is a pattern, the top-level paths it selects.
    expanded: Vec<Option<Vec<String>>>,
}

impl Staged {
    /// Enumerates every COPY source; errors name the `copy` call (no files, symlink escapes).
    pub(super) fn of(template: &Template) -> Result<Staged, Error> {
        let context = template.build_context()?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut expanded = Vec::with_capacity(template.steps().len());
        for step in template.steps() {
            let StepKind::Copy(copy) = &step.kind else {
                expanded.push(None);
                continue;
            };
            let selected = context.copy(copy, Some(step.location))?;
            let is_pattern = copy.src.contains(['*', '?', '[']);
            expanded.push(is_pattern.then(|| top_level(selected.entries())));
            entries.extend(selected.entries().iter().cloned());
        }
        // Sorted by path, parents come before their children; a path two sources select is
        // archived once.
        entries.sort_by(|a, b| a.path().cmp(b.path()));
        entries.dedup_by(|a, b| a.path() == b.path());
        Ok(Staged { context, entries, expanded })
    }

    /// The Dockerfile, with pattern sources replaced by what they select.
    pub(super) fn dockerfile(
        &self,
        template: &Template,
        options: &LocalDockerfileOptions,
    ) -> Result<LocalDockerfile, LocalError> {
        dockerfile_with(template, options, &self.expanded)
    }

    /// Writes the archive: Dockerfile, `.dockerignore`, then the entries (and the end of archive).
    pub(super) fn write(&self, dockerfile: &str, mut out: impl Write) -> Result<(), Error> {
        let io = |source| Error::ArchiveWrite { source };
        write_file(&mut out, DOCKERFILE_NAME, dockerfile.as_bytes()).map_err(io)?;
        // The entries are already filtered by the ignore rules; this only keeps the Dockerfile
        // out of a `copy(".", ...)`.
        write_file(&mut out, ".dockerignore", format!("{DOCKERFILE_NAME}\n.dockerignore\n").as_bytes()).map_err(io)?;
        self.context.write_archive(&self.entries, false, out)?;
        Ok(())
    }
}

/// The entries no other entry contains: what a pattern matched, without the contents of the
/// folders it matched.
fn top_level(entries: &[Entry]) -> Vec<String> {
    let mut paths: Vec<&std::path::Path> = entries.iter().map(Entry::path).collect();
    paths.sort();
    let mut tops: Vec<&std::path::Path> = Vec::new();
    for p in paths {
        // Sorted component-wise, a folder comes right before its contents.
        if tops.last().is_none_or(|top| !p.starts_with(top)) {
            tops.push(p);
        }
    }
    tops.iter().map(|p| p.to_string_lossy().into_owned()).collect()
}

/// One regular file as raw tar records: header, data, padding to 512 bytes. Written by hand rather
/// than with `tar::Builder` because the context module's writer appends the rest of the archive
/// and its end marker to the same stream.
fn write_file(out: &mut impl Write, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name)?;
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(0);
    header.set_cksum();
    out.write_all(header.as_bytes())?;
    out.write_all(data)?;
    let padding = (512 - data.len() % 512) % 512;
    out.write_all(&[0; 512][..padding])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive_names(bytes: &[u8]) -> Vec<(String, String)> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut e, &mut text);
                (name, text)
            })
            .collect()
    }

    #[test]
    fn the_archive_holds_the_dockerfile_and_exactly_the_selected_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app/cache")).unwrap();
        std::fs::write(dir.path().join("app/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("app/debug.log"), "log").unwrap();
        std::fs::write(dir.path().join("app/cache/blob"), "blob").unwrap();
        std::fs::write(dir.path().join("unused.txt"), "not copied").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "**/*.log\n").unwrap();
        let t = Template::new()
            .with_context(dir.path())
            .with_ignore_patterns("app/cache")
            .from_image("localhost/sandbox-base")
            .copy("app", "/app/")
            .copy("app/*.txt", "/txt/");
        let mut buf = Vec::new();
        let df = write_build_context(&t, &LocalDockerfileOptions::default(), &mut buf).unwrap();
        let entries = archive_names(&buf);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [DOCKERFILE_NAME, ".dockerignore", "app/", "app/a.txt"]);
        assert_eq!(entries[0].1, df.text);
    }

    #[test]
    fn a_missing_source_names_the_copy_call() {
        let dir = tempfile::tempdir().unwrap();
        let t = Template::new().with_context(dir.path()).from_image("localhost/sandbox-base").copy("nope.txt", "/x");
        let line = line!() - 1;
        let err = write_build_context(&t, &LocalDockerfileOptions::default(), std::io::sink()).unwrap_err().to_string();
        assert!(err.contains("nope.txt") && err.contains(&format!(":{line}:")), "{err}");
    }

    #[test]
    fn a_pattern_source_is_copied_as_the_paths_it_selects() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["app/a.py", "app/sub/b.py", "app/sub/deep/c.py", "app/x.txt", "app/pkg/__init__.py"] {
            std::fs::create_dir_all(dir.path().join(f).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(f), f).unwrap();
        }
        let t = Template::new()
            .with_context(dir.path())
            .from_image("localhost/sandbox-base")
            .copy("app/**/*.py", "/py")
            .copy("app/p*", "/pkg/")
            .copy("app/x.txt", "/x.txt");
        let staged = Staged::of(&t).unwrap();
        let df = staged.dockerfile(&t, &LocalDockerfileOptions::default()).unwrap();
        let lines: Vec<&str> = df.text.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                r#"COPY ["app/a.py","app/pkg/__init__.py","app/sub/b.py","app/sub/deep/c.py","/py/"]"#,
                r#"COPY ["app/pkg","/pkg/"]"#,
                r#"COPY ["app/x.txt","/x.txt"]"#,
            ]
        );
    }

    #[test]
    fn hand_written_records_are_valid_tar() {
        let mut buf = Vec::new();
        write_file(&mut buf, "x.txt", b"hello").unwrap();
        buf.extend_from_slice(&[0; 1024]);
        assert_eq!(buf.len(), 512 * 4);
        assert_eq!(archive_names(&buf), [("x.txt".to_owned(), "hello".to_owned())]);
    }
}
