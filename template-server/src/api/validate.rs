//! Request bodies checked against `openapi-templates.yml`: required fields and types, with a
//! message that names the field (the server answers 400 with it).
//!
//! Template names and tags follow the cloud's rules (E2B's API trims and lower-cases them, then
//! wants `[a-z0-9_-]+` for a name and `[a-z0-9._-]+` for a tag, a tag never a UUID), with an
//! optional `namespace/` before the name, each part at most [`MAX_NAME_LEN`] bytes. One rule
//! is stricter here: a name, namespace or tag starts with a letter or digit. Locally the name
//! becomes an image name on the engine's command line, where `-x` would read as a flag and `.`
//! or `..` as a path. `fromImage` must be an image reference (the runtime's
//! [`image_reference`](sandbox_template_runtime::rules::image_reference), the same rule a
//! template is checked with) and `fromTemplate` a name with an optional `:tag`.

use sandbox_template_runtime::__private::api::CreateTemplateRequest;
use sandbox_template_runtime::rules;
use sandbox_template_runtime::wire::BuildRequest;
use serde_json::{Map, Value};

fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("request body must be a JSON object".to_owned()),
        Err(e) => Err(format!("request body is not valid JSON: {e}")),
    }
}

fn check_type(m: &Map<String, Value>, key: &str, want: &str, at: &str) -> Result<(), String> {
    let Some(v) = m.get(key) else { return Ok(()) };
    let ok = match want {
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "int32" => v.as_i64().is_some_and(|n| (0..=i64::from(i32::MAX)).contains(&n)),
        "string[]" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        let want = match want {
            "int32" => "a non-negative 32-bit integer",
            "string[]" => "an array of strings",
            "string" => "a string",
            "boolean" => "a boolean",
            "object" => "an object",
            _ => "an array",
        };
        Err(format!("`{at}{key}` must be {want}, got {v}"))
    }
}

/// `TemplateBuildRequestV3`; a name (or the deprecated alias) is required.
pub(super) fn create_request(body: &[u8]) -> Result<CreateTemplateRequest, String> {
    let m = object(body)?;
    for (k, t) in [
        ("name", "string"),
        ("alias", "string"),
        ("teamID", "string"),
        ("tags", "string[]"),
        ("cpuCount", "int32"),
        ("memoryMB", "int32"),
        ("minFreeDiskMb", "int32"),
    ] {
        check_type(&m, k, t, "")?;
    }
    let mut req: CreateTemplateRequest = serde_json::from_value(Value::Object(m)).map_err(|e| e.to_string())?;
    let field = if req.name.is_some() { "name" } else { "alias" };
    let name = req.name.as_deref().or(req.alias.as_deref()).unwrap_or("");
    if name.trim().is_empty() {
        return Err("`name` is required (e.g. \"my-template\" or \"my-template:v1\")".to_owned());
    }
    let (name, name_tag) = name_with_tag(field, name)?;
    let full = match name_tag {
        Some(t) => format!("{name}:{t}"),
        None => name,
    };
    req.name = Some(full);
    if let Some(tags) = &mut req.tags {
        for (i, t) in tags.iter_mut().enumerate() {
            *t = tag(&format!("tags[{i}]"), t)?;
        }
    }
    Ok(req)
}

/// Longest name, namespace or tag.
pub(super) const MAX_NAME_LEN: usize = 128;

/// Trimmed and lower-cased, as the cloud does.
fn clean(value: &str) -> String {
    value.trim().to_ascii_lowercase()
}

/// One part (name, namespace, tag): starts with a letter or digit, then `allowed` characters.
fn part(field: &str, what: &str, value: &str, original: &str, allowed: &[u8]) -> Result<(), String> {
    let example = if what == "tag" { "v1, 2024.06 or latest" } else { "my-template or team/my-template" };
    let problem = if value.is_empty() {
        Some("is empty".to_owned())
    } else if value.len() > MAX_NAME_LEN {
        Some(format!("is {} bytes long, over {MAX_NAME_LEN}", value.len()))
    } else if !value.as_bytes()[0].is_ascii_alphanumeric() {
        Some(format!("starts with {:?}", value.chars().next().unwrap_or(' ')))
    } else {
        value
            .chars()
            .find(|c| {
                !(c.is_ascii_lowercase() || c.is_ascii_digit() || (c.is_ascii() && allowed.contains(&(*c as u8))))
            })
            .map(|c| format!("holds {c:?}"))
    };
    match problem {
        None => Ok(()),
        Some(problem) => {
            let chars = String::from_utf8_lossy(allowed);
            Err(format!(
                "`{field}` {original:?}: the {what} {problem}; a {what} is letters, digits and `{chars}`, \
                 starting with a letter or digit (e.g. {example})"
            ))
        }
    }
}

/// A template name, `name` or `namespace/name`, cleaned.
pub(super) fn template_name(field: &str, value: &str) -> Result<String, String> {
    let name = clean(value);
    let (namespace, base) = match name.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, name.as_str()),
    };
    if let Some(ns) = namespace {
        part(field, "namespace", ns, value, b"_-")?;
    }
    part(field, "name", base, value, b"_-")?;
    Ok(name)
}

/// A tag, cleaned; never a UUID (the cloud keeps those for build IDs).
pub(super) fn tag(field: &str, value: &str) -> Result<String, String> {
    let t = clean(value);
    part(field, "tag", &t, value, b"._-")?;
    let b = t.as_bytes();
    let uuid = b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() });
    if uuid {
        return Err(format!("`{field}` {value:?}: a tag cannot be a UUID (those name builds); write e.g. v1"));
    }
    Ok(t)
}

/// `name` or `name:tag`, cleaned.
pub(super) fn name_with_tag(field: &str, value: &str) -> Result<(String, Option<String>), String> {
    match value.split_once(':') {
        Some((n, t)) => Ok((template_name(field, n)?, Some(tag(field, t)?))),
        None => Ok((template_name(field, value)?, None)),
    }
}

/// `TemplateBuildStartV2`: exactly one of `fromImage` / `fromTemplate`; steps well-formed.
pub(super) fn start_request(body: &[u8]) -> Result<(BuildRequest, Value), String> {
    let m = object(body)?;
    for (k, t) in [
        ("startCmd", "string"),
        ("readyCmd", "string"),
        ("preBootScript", "string"),
        ("force", "boolean"),
        ("fromImage", "string"),
        ("fromTemplate", "string"),
        ("fromImageRegistry", "object"),
        ("steps", "array"),
    ] {
        check_type(&m, k, t, "")?;
    }
    let non_empty = |k: &str| m.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    match (non_empty("fromImage"), non_empty("fromTemplate")) {
        (true, true) => return Err("give only one of `fromImage` and `fromTemplate`".to_owned()),
        (false, false) => return Err("one of `fromImage` or `fromTemplate` is required".to_owned()),
        _ => {}
    }
    if let Some(image) = m.get("fromImage").and_then(Value::as_str).filter(|s| !s.is_empty())
        && let Err(rule) = rules::image_reference(image)
    {
        let help = rule.help().map(|h| format!("; {h}")).unwrap_or_default();
        return Err(format!("`fromImage` {image:?}: {rule}{help}"));
    }
    if let Some(t) = m.get("fromTemplate").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        name_with_tag("fromTemplate", t)?;
    }
    if let Some(reg) = m.get("fromImageRegistry").and_then(Value::as_object) {
        let required: &[&str] = match reg.get("type").and_then(Value::as_str) {
            Some("registry") => &["username", "password"],
            Some("aws") => &["awsAccessKeyId", "awsSecretAccessKey", "awsRegion"],
            Some("gcp") => &["serviceAccountJson"],
            Some("huawei") => &["accessKeyId", "secretAccessKey", "region"],
            Some("oci") => &["tenancyOcid", "userOcid", "fingerprint", "privateKey", "region"],
            other => {
                return Err(format!(
                    "`fromImageRegistry.type` must be one of registry, aws, gcp (huawei, oci on Novita), got {other:?}"
                ));
            }
        };
        for k in required {
            if !reg.get(*k).is_some_and(Value::is_string) {
                return Err(format!("`fromImageRegistry.{k}` is required and must be a string"));
            }
        }
    }
    if let Some(steps) = m.get("steps").and_then(Value::as_array) {
        for (i, step) in steps.iter().enumerate() {
            let at = format!("steps[{i}].");
            let Some(s) = step.as_object() else { return Err(format!("`steps[{i}]` must be an object")) };
            for (k, t) in [
                ("type", "string"),
                ("args", "string[]"),
                ("force", "boolean"),
                ("filesHash", "string"),
                ("forceUpload", "boolean"),
                ("resolveSymlinks", "boolean"),
                ("gzip", "boolean"),
            ] {
                check_type(s, k, t, &at)?;
            }
            let kind = s.get("type").and_then(Value::as_str).ok_or_else(|| format!("`{at}type` is required"))?;
            let argc = s.get("args").and_then(Value::as_array).map_or(0, Vec::len);
            let arity_ok = match kind {
                "RUN" => (1..=2).contains(&argc),
                "COPY" => argc == 4,
                "ENV" => argc % 2 == 0 && argc > 0,
                "WORKDIR" | "USER" => argc == 1,
                other => {
                    return Err(format!("`{at}type` {other:?} is not a step type (RUN, COPY, ENV, WORKDIR, USER)"));
                }
            };
            if !arity_ok {
                return Err(format!("`{at}args` has {argc} values, which does not fit a {kind} step"));
            }
            if kind == "COPY" {
                let hash = s.get("filesHash").and_then(Value::as_str).unwrap_or("");
                if !is_sha256_hex(hash) {
                    return Err(format!("`{at}filesHash` must be the lowercase hex SHA-256 of the step's files"));
                }
            }
        }
    }
    let value = Value::Object(m);
    let req: BuildRequest = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    Ok((req, value))
}

/// 64 lowercase hex digits.
pub(super) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_needs_a_name_and_typed_fields() {
        assert!(create_request(br#"{"name":"a:v1","tags":["x"],"cpuCount":2}"#).is_ok());
        assert!(create_request(br#"{"tags":["x"]}"#).unwrap_err().contains("`name` is required"));
        assert!(create_request(br#"{"name":"a","cpuCount":"2"}"#).unwrap_err().contains("`cpuCount`"));
        assert!(create_request(br#"{"name":"a","tags":[1]}"#).unwrap_err().contains("array of strings"));
        assert!(create_request(b"[1]").unwrap_err().contains("JSON object"));
        assert!(create_request(b"{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn names_and_tags_follow_the_cloud_rules() {
        assert_eq!(
            name_with_tag("name", " My-Template:V1 ").unwrap(),
            ("my-template".to_owned(), Some("v1".to_owned()))
        );
        assert_eq!(template_name("name", "team/app_2").unwrap(), "team/app_2");
        for bad in ["../../etc/x", "$(touch /tmp/x)", "--privileged", "", "a b", "a/b/c", ".hidden", "é"] {
            assert!(template_name("name", bad).unwrap_err().starts_with("`name`"), "{bad}");
        }
        for bad in [":", "a:", ":v1", "a:-x", "a:..", "a:v1:v2"] {
            assert!(name_with_tag("fromTemplate", bad).unwrap_err().starts_with("`fromTemplate`"), "{bad}");
        }
        assert!(tag("tags[0]", "0b6c4b0e-1d5e-4c1a-9a0e-2f3b4c5d6e7f").unwrap_err().contains("UUID"));
        assert!(template_name("name", &"a".repeat(129)).unwrap_err().contains("over 128"));
        assert!(create_request(br#"{"name":"ok","tags":["v1","--x"]}"#).unwrap_err().contains("`tags[1]`"));
        assert!(create_request(br#"{"alias":"../x"}"#).unwrap_err().contains("`alias`"));
    }

    #[test]
    fn start_checks_base_steps_and_hashes() {
        let ok = br#"{"steps":[{"type":"RUN","args":["echo"],"force":false}],"force":false,"fromImage":"alpine"}"#;
        assert!(start_request(ok).is_ok());
        assert!(start_request(br#"{"steps":[]}"#).unwrap_err().contains("fromImage"));
        let bad = br#"{"fromImage":"a","steps":[{"type":"FOO","args":[]}]}"#;
        assert!(start_request(bad).unwrap_err().contains("\"FOO\" is not a step type"));
        let bad = br#"{"fromImage":"a","steps":[{"type":"COPY","args":["a","b","",""]}]}"#;
        assert!(start_request(bad).unwrap_err().contains("steps[0].filesHash"));
        let bad = br#"{"fromTemplate":"--platform=linux/arm64 alpine"}"#;
        assert!(start_request(bad).unwrap_err().starts_with("`fromTemplate`"));
        let bad = br#"{"fromImage":"--platform=linux/arm64 alpine"}"#;
        assert!(start_request(bad).unwrap_err().starts_with("`fromImage`"));
        let bad = br#"{"fromImage":"a","fromImageRegistry":{"type":"aws","awsAccessKeyId":"k"}}"#;
        assert!(start_request(bad).unwrap_err().contains("awsSecretAccessKey"));
    }
}
