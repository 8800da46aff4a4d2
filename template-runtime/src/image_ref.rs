//! Image references, by Docker's reference grammar: the one parser behind the validation rule,
//! registry logins and local image naming.

use std::fmt;
use std::str::FromStr;

use crate::rules::Rule;

/// The registry a reference without a domain names (Docker Hub).
const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's old name, which Docker reads as [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images (`python` is `library/python`).
const OFFICIAL_NAMESPACE: &str = "library";

/// An image reference split into its parts: `[domain/]path[:tag][@digest]`, following Docker's
/// reference grammar (`distribution/reference`): lower-case path components, a tag of at most
/// 128 characters, a digest of `algorithm:hex`. The first component is the domain when there is
/// more than one and it contains `.` or `:`, is `localhost`, or has an upper-case letter.
///
/// Written by hand: the grammar is small and the macro must stay free of a regex engine.
///
/// ```
/// use sandbox_template_runtime::ImageRef;
///
/// let r = ImageRef::parse("ghcr.io/acme/app:1.2").unwrap();
/// assert_eq!(r.domain(), Some("ghcr.io"));
/// assert_eq!(r.path(), "acme/app");
/// assert_eq!(r.tag(), Some("1.2"));
/// assert_eq!(r.digest(), None);
///
/// // A name without a domain is a Docker Hub name.
/// let python = ImageRef::parse("python:3.12").unwrap();
/// assert_eq!(python.registry(), "docker.io");
/// assert_eq!(python.normalized(), "docker.io/library/python:3.12");
///
/// let err = ImageRef::parse("Python:3").unwrap_err();
/// assert!(err.to_string().contains("must be lower-case"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: Option<String>,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses `reference`; the error says which part is wrong
    /// ([`Rule::InvalidImageReference`]).
    pub fn parse(reference: &str) -> Result<ImageRef, Rule> {
        let fail =
            |reason: &str| Rule::InvalidImageReference { reference: reference.to_owned(), reason: reason.to_owned() };
        if reference.is_empty() {
            return Err(fail("it is empty"));
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (reference, None),
        };
        if let Some(d) = digest {
            digest_ok(d).map_err(|r| fail(&r))?;
        }
        // A tag is after the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            tag_ok(tag).map_err(|r| fail(&r))?;
        }
        if name.is_empty() {
            return Err(fail("the image name is empty"));
        }
        if name.len() > 255 {
            return Err(fail("the name is longer than 255 characters"));
        }
        let (domain, path) = split_domain(name);
        if let Some(domain) = domain {
            domain_ok(domain).map_err(|r| fail(&r))?;
        }
        for c in path.split('/') {
            path_component_ok(c).map_err(|r| fail(&r))?;
        }
        Ok(ImageRef {
            domain: domain.map(str::to_owned),
            path: path.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// The registry as written (`ghcr.io`, `localhost:5000`), or `None` for a Docker Hub name.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The repository path within the registry (`acme/app`, `python`), as written.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag (`3.12`), if one is written.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:...`), if one is written.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The registry to log in to and pull from: the domain, `docker.io` when there is none (or
    /// for Docker Hub's old name `index.docker.io`).
    ///
    /// ```
    /// use sandbox_template_runtime::ImageRef;
    /// assert_eq!(ImageRef::parse("localhost:5000/app").unwrap().registry(), "localhost:5000");
    /// assert_eq!(ImageRef::parse("library/python").unwrap().registry(), "docker.io");
    /// ```
    pub fn registry(&self) -> &str {
        match self.domain.as_deref() {
            None | Some(LEGACY_DEFAULT_DOMAIN) => DEFAULT_DOMAIN,
            Some(domain) => domain,
        }
    }

    /// The reference as Docker reads it, with the registry and, for Docker Hub's official images,
    /// the `library/` namespace written out (Docker's `ParseNormalizedNamed`). Engines that do
    /// not guess a registry for short names (Podman without search registries) take this form.
    ///
    /// ```
    /// use sandbox_template_runtime::ImageRef;
    /// let full = |r: &str| ImageRef::parse(r).unwrap().normalized();
    /// assert_eq!(full("python:3.12"), "docker.io/library/python:3.12");
    /// assert_eq!(full("e2bdev/base"), "docker.io/e2bdev/base");
    /// assert_eq!(full("ghcr.io/org/app:1"), "ghcr.io/org/app:1");
    /// ```
    pub fn normalized(&self) -> String {
        let registry = self.registry();
        let mut out = String::from(registry);
        out.push('/');
        if registry == DEFAULT_DOMAIN && !self.path.contains('/') {
            out.push_str(OFFICIAL_NAMESPACE);
            out.push('/');
        }
        out.push_str(&self.path);
        self.push_tag_and_digest(&mut out);
        out
    }

    fn push_tag_and_digest(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
    }
}

impl FromStr for ImageRef {
    type Err = Rule;

    fn from_str(s: &str) -> Result<Self, Rule> {
        ImageRef::parse(s)
    }
}

/// The reference as written.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if let Some(domain) = &self.domain {
            out.push_str(domain);
            out.push('/');
        }
        out.push_str(&self.path);
        self.push_tag_and_digest(&mut out);
        f.write_str(&out)
    }
}

/// `name` split into domain and path, as Docker's `splitDockerDomain` does.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn tag_ok(tag: &str) -> Result<(), String> {
    let mut chars = tag.chars();
    let first_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_');
    if !first_ok || tag.len() > 128 || !chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        return Err(format!(
            "tag `{tag}` must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        ));
    }
    Ok(())
}

fn domain_ok(domain: &str) -> Result<(), String> {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, Some(p)),
        _ => (domain, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("registry port `{p}` is not a number"));
    }
    if host.starts_with('[') && host.ends_with(']') {
        return Ok(());
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("registry host `{host}` is not a valid host name"));
        }
    }
    Ok(())
}

fn path_component_ok(c: &str) -> Result<(), String> {
    let bad = || format!("`{c}` must be lower-case letters and digits, separated by `.`, `_`, `__` or dashes");
    if c.is_empty() {
        return Err("the name has an empty path component (`//` or a trailing `/`)".to_owned());
    }
    let bytes = c.as_bytes();
    if !bytes[0].is_ascii_lowercase() && !bytes[0].is_ascii_digit() {
        return Err(bad());
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            i += 1;
            continue;
        }
        // a separator: `.`, `_`, `__`, or one or more `-`
        let start = i;
        match b {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return Err(bad()),
        }
        let next_ok = bytes.get(i).is_some_and(|n| n.is_ascii_lowercase() || n.is_ascii_digit());
        if !next_ok || start == 0 {
            return Err(bad());
        }
    }
    Ok(())
}

fn digest_ok(d: &str) -> Result<(), String> {
    let Some((algo, hex)) = d.split_once(':') else {
        return Err(format!("digest `{d}` must be `algorithm:hex`, e.g. `sha256:…`"));
    };
    let algo_ok = !algo.is_empty()
        && algo.split(['+', '.', '-', '_']).all(|p| {
            let mut cs = p.chars();
            matches!(cs.next(), Some(c) if c.is_ascii_alphabetic()) && cs.all(|c| c.is_ascii_alphanumeric())
        });
    if !algo_ok {
        return Err(format!("digest algorithm `{algo}` is not valid"));
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("digest `{hex}` must be at least 32 hexadecimal digits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parts() {
        let r = ImageRef::parse(&format!("localhost:5000/a/b:1@{DIGEST}")).unwrap();
        assert_eq!(
            (r.domain(), r.path(), r.tag(), r.digest()),
            (Some("localhost:5000"), "a/b", Some("1"), Some(DIGEST))
        );
        let r = ImageRef::parse("python").unwrap();
        assert_eq!((r.domain(), r.path(), r.tag(), r.digest()), (None, "python", None, None));
        // Only a first component that looks like a host is a domain.
        assert_eq!(ImageRef::parse("e2bdev/base").unwrap().domain(), None);
        assert_eq!(ImageRef::parse("localhost/app").unwrap().domain(), Some("localhost"));
    }

    #[test]
    fn display_is_the_reference_as_written() {
        for r in ["python", "python:3.12", "ghcr.io/a/b:1", &format!("a@{DIGEST}"), "localhost:5000/x:y"] {
            assert_eq!(ImageRef::parse(r).unwrap().to_string(), r);
        }
    }

    #[test]
    fn docker_hub_names_are_normalized_as_docker_does() {
        let full = |r: &str| ImageRef::parse(r).unwrap().normalized();
        assert_eq!(full("python"), "docker.io/library/python");
        assert_eq!(full(&format!("python@{DIGEST}")), format!("docker.io/library/python@{DIGEST}"));
        assert_eq!(full("docker.io/python:3"), "docker.io/library/python:3");
        assert_eq!(full("index.docker.io/org/app"), "docker.io/org/app");
        assert_eq!(full("localhost/sandbox-base:latest"), "localhost/sandbox-base:latest");
        assert_eq!(full("localhost:5000/app"), "localhost:5000/app");
    }

    /// Where the three parsers this replaces disagreed: the rule took an upper-case first
    /// component for a domain (as Docker does), while login and local naming took it for a Docker
    /// Hub namespace (pulling `docker.io/Registry/app`, which no registry can hold).
    #[test]
    fn an_upper_case_first_component_is_a_domain() {
        let r = ImageRef::parse("Registry/app:1").unwrap();
        assert_eq!(r.domain(), Some("Registry"));
        assert_eq!(r.registry(), "Registry");
        assert_eq!(r.normalized(), "Registry/app:1");
        // Without a slash there is no domain, so the name itself must be lower case.
        assert!(ImageRef::parse("Registry").is_err());
    }

    #[test]
    fn errors_name_the_wrong_part() {
        let reason = |r: &str| match ImageRef::parse(r) {
            Err(Rule::InvalidImageReference { reason, .. }) => reason,
            other => panic!("{r}: {other:?}"),
        };
        assert_eq!(reason(""), "it is empty");
        assert_eq!(reason("a/"), "the name has an empty path component (`//` or a trailing `/`)");
        assert_eq!(reason("host:x/a"), "registry port `x` is not a number");
        assert_eq!(reason("ex ample.com/a"), "registry host `ex ample.com` is not a valid host name");
        assert_eq!(reason("a@md5"), "digest `md5` must be `algorithm:hex`, e.g. `sha256:…`");
    }
}
