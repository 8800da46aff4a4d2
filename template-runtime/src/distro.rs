//! The distro table: the bases the SDKs name by distribution (`from_python_image`, …).
//!
//! One line per distro. The builder's `from_*_image` methods, the DSL's `from KEYWORD` (its
//! grammar list, checker, interpreter and lowering) all read this table, so adding a distro is
//! adding a line here.

/// A base image named by its distribution, with the tag the SDKs pick when none is given.
///
/// ```
/// use sandbox_template_runtime::{Distro, Version};
///
/// let python = Distro::find("python").unwrap();
/// assert_eq!(python.image, "python");
/// assert_eq!(python.reference(Version::Default), "python:3");
/// assert_eq!(python.reference("3.12"), "python:3.12");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Distro {
    /// The DSL keyword (`from python`).
    pub keyword: &'static str,
    /// The image repository (`python`, `oven/bun`).
    pub image: &'static str,
    /// The tag when none is given, as in the SDKs.
    pub default_tag: &'static str,
    /// The system package manager its images have (`apt-get`, `apk`, `dnf`, `pacman`): `apt
    /// install` and a `run` of another distro's package manager fail on it
    /// ([`rules::package_manager_fits`](crate::rules::package_manager_fits)).
    pub package_manager: &'static str,
}

/// Every distro, in the order the DSL lists its bases.
pub const DISTROS: &[Distro] = &[
    // The python, node and bun images are Debian-based (their `-alpine` tags are not: see
    // `Distro::package_manager_of`).
    Distro { keyword: "python", image: "python", default_tag: "3", package_manager: "apt-get" },
    Distro { keyword: "node", image: "node", default_tag: "lts", package_manager: "apt-get" },
    Distro { keyword: "bun", image: "oven/bun", default_tag: "latest", package_manager: "apt-get" },
    Distro { keyword: "ubuntu", image: "ubuntu", default_tag: "latest", package_manager: "apt-get" },
    Distro { keyword: "debian", image: "debian", default_tag: "stable", package_manager: "apt-get" },
    Distro { keyword: "fedora", image: "fedora", default_tag: "44", package_manager: "dnf" },
    Distro { keyword: "alpine", image: "alpine", default_tag: "3.24", package_manager: "apk" },
    Distro { keyword: "arch", image: "archlinux", default_tag: "latest", package_manager: "pacman" },
];

impl Distro {
    /// The distro with this DSL keyword.
    ///
    /// ```
    /// use sandbox_template_runtime::Distro;
    /// assert_eq!(Distro::find("bun").unwrap().image, "oven/bun");
    /// assert!(Distro::find("gentoo").is_none());
    /// ```
    pub fn find(keyword: &str) -> Option<&'static Distro> {
        DISTROS.iter().find(|d| d.keyword == keyword)
    }

    /// [`Distro::find`] at compile time, for the `template!` expansion (`const { ... }`, through
    /// [`crate::__private::distro_named`]).
    ///
    /// # Panics
    ///
    /// When no distro has this keyword. In a `const` block that is a compile error, which only
    /// happens when the macro crate and this crate come from different versions.
    pub(crate) const fn named(keyword: &str) -> &'static Distro {
        let mut i = 0;
        while i < DISTROS.len() {
            if str_eq(DISTROS[i].keyword, keyword) {
                return &DISTROS[i];
            }
            i += 1;
        }
        panic!("unknown distro: sandbox-template-macros and sandbox-template-runtime differ in version")
    }

    /// The system package manager of an image reference whose repository is one of [`DISTROS`]
    /// (`alpine:3.20`, `docker.io/library/fedora`, `python:3.12-alpine`); `None` for any other
    /// image, whose distro is unknown.
    ///
    /// ```
    /// use sandbox_template_runtime::Distro;
    /// assert_eq!(Distro::package_manager_of("alpine:3.20"), Some("apk"));
    /// assert_eq!(Distro::package_manager_of("python:3.12"), Some("apt-get"));
    /// assert_eq!(Distro::package_manager_of("python:3.12-alpine"), Some("apk"));
    /// assert_eq!(Distro::package_manager_of("ghcr.io/org/app:1.0"), None);
    /// ```
    pub fn package_manager_of(reference: &str) -> Option<&'static str> {
        let (distro, tag) = Distro::of(reference)?;
        // The official images' Alpine variants (`python:3.12-alpine`, `node:22-alpine3.20`).
        Some(if tag.contains("alpine") { "apk" } else { distro.package_manager })
    }

    /// The distro of an image reference whose repository is one of [`DISTROS`], and its tag
    /// (empty when there is none).
    pub(crate) fn of(reference: &str) -> Option<(&'static Distro, &str)> {
        let name = reference.split('@').next().unwrap_or(reference);
        let (repo, tag) = match name.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, tag),
            _ => (name, ""),
        };
        let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
        let repo = repo.strip_prefix("library/").unwrap_or(repo);
        Some((DISTROS.iter().find(|d| d.image == repo)?, tag))
    }

    /// The image reference for `version` (the default tag for [`Version::Default`]).
    pub fn reference(&self, version: impl Into<Version>) -> String {
        match version.into() {
            Version::Default => format!("{}:{}", self.image, self.default_tag),
            Version::Tag(tag) => format!("{}:{tag}", self.image),
        }
    }
}

/// `a == b` for `const fn` (`PartialEq` is not const).
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// An image version or variant; `None` (or `Version::Default`) picks the SDKs' default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Version {
    /// The SDKs' default for this image (`python:3`, `node:lts`, `ubuntu:latest`, …).
    #[default]
    Default,
    /// This tag.
    Tag(String),
}
impl From<&str> for Version {
    fn from(s: &str) -> Self {
        Version::Tag(s.to_owned())
    }
}
impl From<String> for Version {
    fn from(s: String) -> Self {
        Version::Tag(s)
    }
}
impl From<Option<&str>> for Version {
    fn from(s: Option<&str>) -> Self {
        s.map_or(Version::Default, Version::from)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_unique_and_found() {
        for (i, d) in DISTROS.iter().enumerate() {
            assert_eq!(Distro::find(d.keyword), Some(d));
            assert_eq!(Distro::named(d.keyword), d);
            assert!(DISTROS[..i].iter().all(|o| o.keyword != d.keyword), "{} twice", d.keyword);
        }
    }

    #[test]
    fn references_use_the_sdks_defaults() {
        let arch = Distro::find("arch").unwrap();
        assert_eq!(arch.reference(Version::Default), "archlinux:latest");
        assert_eq!(arch.reference(None), "archlinux:latest");
        assert_eq!(arch.reference("base"), "archlinux:base");
    }
}
