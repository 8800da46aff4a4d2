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
}

/// Every distro, in the order the DSL lists its bases.
pub const DISTROS: &[Distro] = &[
    Distro { keyword: "python", image: "python", default_tag: "3" },
    Distro { keyword: "node", image: "node", default_tag: "lts" },
    Distro { keyword: "bun", image: "oven/bun", default_tag: "latest" },
    Distro { keyword: "ubuntu", image: "ubuntu", default_tag: "latest" },
    Distro { keyword: "debian", image: "debian", default_tag: "stable" },
    Distro { keyword: "fedora", image: "fedora", default_tag: "44" },
    Distro { keyword: "alpine", image: "alpine", default_tag: "3.24" },
    Distro { keyword: "arch", image: "archlinux", default_tag: "latest" },
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
