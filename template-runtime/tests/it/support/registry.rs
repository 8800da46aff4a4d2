//! A real registry on loopback for the image-config tests: Debian's `docker-registry`
//! (distribution 2.8) serving HTTPS with a certificate of a throwaway CA made by `openssl`, filesystem
//! storage in a temporary folder, optionally behind htpasswd basic auth (`htpasswd`, from
//! apache2-utils). Images are written as OCI layouts (a config with known ENV/WORKDIR/ENTRYPOINT/
//! CMD, one empty layer; an index of several platforms) and pushed with `skopeo`.
//!
//! `.ci/run` installs all three; without them the tests fail under `CI` and are skipped loudly
//! elsewhere ([`skip_or_fail`]).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Fails the test under `CI` (the tools must be there), prints a loud notice elsewhere.
pub fn skip_or_fail(message: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(!in_ci, "{message}");
    eprintln!("\n!!!!!!!! SKIPPED !!!!!!!! {message}\n");
}

/// A running `docker-registry`, stopped when dropped.
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA certificate that signed the one it serves (for `127.0.0.1` and `localhost`).
    pub cert_pem: Vec<u8>,
    /// The username and password it wants, if it wants any.
    pub auth: Option<(String, String)>,
}

enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Token(&'a TokenAuth),
}

/// docker-registry's token auth: where clients get a token, and whose signature it trusts.
pub struct TokenAuth {
    /// The token endpoint (`http://127.0.0.1:PORT/token`).
    pub realm: String,
    pub service: String,
    pub issuer: String,
    /// The certificate that signs the tokens (self-signed).
    pub root_cert: PathBuf,
}

/// A token for docker-registry's token auth: a JWT (RS256, the signing certificate in `x5c`)
/// granting `actions` on `repository`, signed with `openssl` by the key in `dir/token.key`
/// (made here with its certificate `dir/token.pem`, the registry's `rootcertbundle`).
pub fn signed_token(dir: &Path, issuer: &str, service: &str, repository: &str, actions: &[&str]) -> String {
    if !dir.join("token.pem").exists() {
        self_signed(dir, "token", "/CN=token signer");
    }
    let der = Command::new("openssl")
        .current_dir(dir)
        .args(["x509", "-in", "token.pem", "-outform", "DER"])
        .output()
        .unwrap();
    assert!(der.status.success());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [STANDARD.encode(&der.stdout)]});
    let claims = json!({
        "iss": issuer, "sub": "", "aud": service, "exp": now + 3600, "nbf": now - 60, "iat": now - 60, "jti": "test-token",
        "access": [{"type": "repository", "name": repository, "actions": actions}],
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    std::fs::write(dir.join("signing-input"), &signing_input).unwrap();
    let signature = Command::new("openssl")
        .current_dir(dir)
        .args(["dgst", "-sha256", "-sign", "token.key", "signing-input"])
        .output()
        .unwrap();
    assert!(signature.status.success());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature.stdout))
}

/// A self-signed certificate `dir/NAME.pem` with its key `dir/NAME.key`, valid for two days.
fn self_signed(dir: &Path, name: &str, subject: &str) {
    let (key, cert) = (format!("{name}.key"), format!("{name}.pem"));
    run(Command::new("openssl")
        .current_dir(dir)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
        .args(["-keyout", &key, "-out", &cert, "-days", "2", "-subj", subject]));
}

/// The media types an image is pushed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Oci,
    Docker,
}

/// One platform of a test image: what its config declares.
#[derive(Clone, Debug)]
pub struct Platform {
    pub os: &'static str,
    pub architecture: &'static str,
    pub variant: Option<&'static str>,
    /// The image config's `config` object (`Env`, `WorkingDir`, `Entrypoint`, `Cmd`).
    pub config: Value,
}

impl Platform {
    pub fn amd64(config: Value) -> Self {
        Platform { os: "linux", architecture: "amd64", variant: None, config }
    }
    pub fn arm64(config: Value) -> Self {
        Platform { os: "linux", architecture: "arm64", variant: Some("v8"), config }
    }
}

fn tool_missing(tool: &str) -> Option<String> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!found)
        .then(|| format!("`{tool}` is not installed (apt-get install docker-registry skopeo apache2-utils openssl)"))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether docker-registry, skopeo, openssl and htpasswd are installed (else [`skip_or_fail`]).
pub fn tools_present() -> bool {
    for tool in ["docker-registry", "skopeo", "openssl", "htpasswd"] {
        if let Some(problem) = tool_missing(tool) {
            skip_or_fail(&format!("image-config registry tests cannot run: {problem}"));
            return false;
        }
    }
    true
}

impl Registry {
    /// Starts a registry (with basic auth when `auth` is given); `None` after [`skip_or_fail`]
    /// when a tool is missing.
    pub fn start(auth: Option<(&str, &str)>) -> Option<Registry> {
        Self::start_with(auth.map_or(Auth::None, |(u, p)| Auth::Basic(u, p)))
    }

    /// Starts a registry that wants bearer tokens from `token` (docker-registry's `auth: token`).
    pub fn start_with_token_auth(token: &TokenAuth) -> Option<Registry> {
        Self::start_with(Auth::Token(token))
    }

    fn start_with(auth: Auth<'_>) -> Option<Registry> {
        if !tools_present() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A CA and a server certificate it signs (rustls refuses a CA certificate as a server's).
        self_signed(d, "ca", "/CN=sandbox-template test CA");
        run(Command::new("openssl").current_dir(d).args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]));
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(Command::new("openssl").current_dir(d).args([
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]));
        let auth_yaml = match auth {
            Auth::None => String::new(),
            Auth::Basic(user, pass) => {
                let out = Command::new("htpasswd").args(["-Bbn", user, pass]).output().unwrap();
                assert!(out.status.success());
                std::fs::write(d.join("htpasswd"), out.stdout).unwrap();
                format!("auth:\n  htpasswd:\n    realm: test\n    path: {}\n", d.join("htpasswd").display())
            }
            Auth::Token(t) => format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                t.realm,
                t.service,
                t.issuer,
                t.root_cert.display()
            ),
        };
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n{auth_yaml}",
            root = d.join("data").display(),
            cert = d.join("cert.pem").display(),
            key = d.join("key.pem").display(),
        );
        std::fs::write(d.join("config.yml"), config).unwrap();
        let log = std::fs::File::create(d.join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(d.join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            cert_pem: std::fs::read(d.join("ca.pem")).unwrap(),
            auth: match auth {
                Auth::Basic(u, p) => Some((u.to_owned(), p.to_owned())),
                _ => None,
            },
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not listen:\n{}", registry.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    /// The CA certificate's file (for `NODE_EXTRA_CA_CERTS`).
    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// What the registry logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The reads the registry answered (its access log's `GET /v2/...` lines, the version
    /// check excluded), by path.
    pub fn reads(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("\"GET ").map(|(_, rest)| rest.split(' ').next().unwrap_or("").to_owned()))
            .filter(|p| p.starts_with("/v2/") && p != "/v2/")
            .collect()
    }

    /// Pushes an image (one amd64 platform: a manifest; otherwise an index) as `HOST/name:tag`;
    /// returns the reference.
    pub fn push(&self, name_tag: &str, platforms: &[Platform]) -> String {
        self.push_as(name_tag, platforms, Format::Oci)
    }

    /// [`Registry::push`] in `format`: OCI media types, or Docker's (schema 2 manifest and
    /// manifest list, as `docker push` sends them).
    pub fn push_as(&self, name_tag: &str, platforms: &[Platform], format: Format) -> String {
        let layout = tempfile::tempdir().unwrap();
        let blobs = layout.path().join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let put = |bytes: &[u8]| -> (String, usize) {
            let hex = format!("{:x}", Sha256::digest(bytes));
            std::fs::write(blobs.join(&hex), bytes).unwrap();
            (format!("sha256:{hex}"), bytes.len())
        };
        // An empty tar: two zero blocks.
        let layer = vec![0u8; 1024];
        let (layer_digest, layer_size) = put(&layer);
        let mut entries = Vec::new();
        for p in platforms {
            let config = json!({
                "architecture": p.architecture,
                "os": p.os,
                "config": p.config,
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
                "history": [{"created_by": "sandbox-template test image"}],
            });
            let (config_digest, config_size) = put(&serde_json::to_vec(&config).unwrap());
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
            });
            let (digest, size) = put(&serde_json::to_vec(&manifest).unwrap());
            let mut platform = json!({"os": p.os, "architecture": p.architecture});
            if let Some(v) = p.variant {
                platform["variant"] = json!(v);
            }
            entries.push(json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size, "platform": platform,
            }));
        }
        let tag = name_tag.rsplit_once(':').map(|(_, t)| t).unwrap_or("latest");
        let plain_amd64 = platforms.len() == 1 && platforms[0].architecture == "amd64";
        let top = if plain_amd64 {
            let mut e = entries.pop().unwrap();
            e.as_object_mut().unwrap().remove("platform");
            e
        } else {
            let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries});
            let (digest, size) = put(&serde_json::to_vec(&index).unwrap());
            json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size})
        };
        let mut top = top;
        top["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        let index = json!({"schemaVersion": 2, "manifests": [top]});
        std::fs::write(layout.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        std::fs::write(layout.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let reference = format!("{}/{name_tag}", self.host);
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy", "--all", "--dest-tls-verify=false"]);
        if format == Format::Docker {
            cmd.arg("--format=v2s2");
        }
        if let Some((u, p)) = &self.auth {
            cmd.arg(format!("--dest-creds={u}:{p}"));
        }
        cmd.arg(format!("oci:{}:{tag}", layout.path().display())).arg(format!("docker://{reference}"));
        run(&mut cmd);
        reference
    }
}

impl Registry {
    /// The `mediaType` of `reference`'s top manifest, as the registry serves it (`skopeo inspect --raw`).
    pub fn media_type(&self, reference: &str) -> String {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "inspect", "--raw", "--tls-verify=false"]);
        if let Some((u, p)) = &self.auth {
            cmd.arg(format!("--creds={u}:{p}"));
        }
        let out = cmd.arg(format!("docker://{reference}")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let raw: Value = serde_json::from_slice(&out.stdout).unwrap();
        raw["mediaType"].as_str().unwrap_or_default().to_owned()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `node_modules` holding novita-sandbox 2.1.1 (installed with npm into the test target folder
/// the first time), or `None` after [`skip_or_fail`].
///
/// Tests call it concurrently, and two `npm install`s into one folder fail (`ENOTEMPTY`), so the
/// install runs once per process; it goes into a scratch folder renamed into place when complete,
/// so that an interrupted install leaves nothing the next run would take for an installed SDK.
pub fn novita_sdk() -> Option<PathBuf> {
    static SDK: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    const VERSION: &str = "2.1.1";
    let mut sdk = SDK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(modules) = &*sdk {
        return Some(modules.clone());
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("novita-sandbox-{VERSION}"));
    let package = dir.join("node_modules/novita-sandbox/package.json");
    let installed = std::fs::read_to_string(&package)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|p| p["version"] == VERSION);
    if !installed {
        let scratch = dir.with_file_name(format!("novita-sandbox-{VERSION}.part-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&scratch)
            .arg(format!("novita-sandbox@{VERSION}"))
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::rename(&scratch, &dir).unwrap();
            }
            Ok(o) => {
                let _ = std::fs::remove_dir_all(&scratch);
                skip_or_fail(&format!(
                    "`npm install novita-sandbox@{VERSION}` failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
                return None;
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&scratch);
                skip_or_fail(&format!("cannot run npm ({e}); install Node.js and npm"));
                return None;
            }
        }
    }
    *sdk = Some(dir.join("node_modules"));
    sdk.clone()
}

/// Runs `script` with node (novita-sandbox on `NODE_PATH`, `certs` trusted) and returns stdout.
pub fn node(modules: &Path, certs: &[PathBuf], script: &str) -> String {
    let mut bundle = tempfile::NamedTempFile::new().unwrap();
    for c in certs {
        bundle.write_all(&std::fs::read(c).unwrap()).unwrap();
    }
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .env("NODE_PATH", modules)
        .env("NODE_EXTRA_CA_CERTS", bundle.path())
        .output()
        .expect("node runs");
    assert!(out.status.success(), "node failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
