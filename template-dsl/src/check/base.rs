//! `from`: the base of the template.

use sandbox_template_runtime::Distro;
use sandbox_template_runtime::rules::{self, Rule};
use syn::LitStr;

use super::{Checker, Collected};
use crate::ast::{BASES, FromStmt, Str};
use crate::diag::{Diagnostic, unknown_help};
use crate::dockerfile::Converted;
use crate::model::{BaseOp, Op, OpKind};

/// The options of `from oci`, in the order the docs list them.
const OCI_OPTIONS: [&str; 5] = ["tenancy_ocid", "user_ocid", "fingerprint", "private_key", "region"];

/// What a `from` statement checks out as.
pub(super) enum FromResult {
    Base(BaseOp),
    Dockerfile(LitStr, Converted),
}

impl Checker<'_> {
    pub(super) fn base_stmt(&mut self, s: &FromStmt, c: &mut Collected) {
        let span = s.kw.span();
        if self.seen_base.is_some() {
            self.cx.push(
                Diagnostic::new(span, "a second base").help("a template has exactly one `from`; remove this one"),
            );
            return;
        }
        self.seen_base = Some(span);
        let errors = self.cx.len();
        match self.base(s) {
            Some(FromResult::Base(b)) => c.ops.push(Op { span, kind: OpKind::Base(b) }),
            Some(FromResult::Dockerfile(lit, converted)) => {
                c.dockerfiles.push(lit.clone());
                self.dockerfile_ops(&lit, converted, span, &mut c.ops, &mut c.copies);
            }
            None => {}
        }
        c.base_failed |= self.cx.len() > errors;
    }

    fn base(&mut self, s: &FromStmt) -> Option<FromResult> {
        let kind = s.kind.to_string();
        let span = s.kind.span();
        let takes_options =
            matches!(kind.as_str(), "image" | "registry" | "aws" | "gcp" | "huawei" | "oci" | "dockerfile");
        if s.has_options && !takes_options && BASES.contains(&kind.as_str()) {
            self.cx.push(Diagnostic::new(span, format!("`from {kind}` takes no options")).help("remove the `(...)`"));
            return None;
        }
        if let Some(distro) = Distro::find(&kind) {
            if let Some(v) = &s.arg {
                self.str(v);
                self.lit_rule(v, |v| rules::image_reference(&distro.reference(v)));
            }
            // A base the provider cannot build on (`from alpine` for Novita), at the kind; a tag
            // given as `{expr}` (`python:{v}` may be `-alpine`) is left to `validate()`.
            let version = match &s.arg {
                Some(v) => v.value().map(Some),
                None => Some(None),
            };
            if let Some(version) = version {
                self.cx.rule(span, rules::base_on_provider(self.provider(), &distro.reference(version.as_deref())));
            }
            return Some(FromResult::Base(BaseOp::Distro(distro, s.arg.clone())));
        }
        // A registry the provider's SDK cannot pull from (`from huawei` on E2B), at the kind (the
        // DSL's kinds are the runtime's `RegistryCredentials::kind`).
        if matches!(kind.as_str(), "registry" | "aws" | "gcp" | "huawei" | "oci") {
            self.cx.rule(span, rules::registry_kind(self.provider(), &kind));
        }
        let base = match kind.as_str() {
            "base" => self.default_base(s),
            "image" | "registry" => self.image_base(s),
            "aws" | "huawei" => self.access_key_base(s),
            "gcp" => self.gcp_base(s),
            "oci" => self.oci_base(s),
            "template" => self.template_base(s),
            "dockerfile" => return self.dockerfile_base(s),
            other => {
                self.cx.push(
                    Diagnostic::new(span, format!("unknown base `{other}`")).help(unknown_help(other, "bases", BASES)),
                );
                None
            }
        };
        base.map(FromResult::Base)
    }

    /// The argument of `from KIND ARG`, reported when missing.
    pub(super) fn need_arg(&mut self, s: &FromStmt, what: &str, example: &str) -> Option<Str> {
        match &s.arg {
            Some(a) => Some(a.clone()),
            None => {
                let kind = &s.kind;
                self.cx.push(
                    Diagnostic::new(kind.span(), format!("`from {kind}` needs {what}"))
                        .help(format!("write `from {kind} {example};`")),
                );
                None
            }
        }
    }

    fn default_base(&mut self, s: &FromStmt) -> Option<BaseOp> {
        if let Some(a) = &s.arg {
            self.cx.push(
                Diagnostic::new(a.span(), "`from base` takes no argument")
                    .help("write `from base;`, or `from image \"...\";` for a specific image"),
            );
            return None;
        }
        Some(BaseOp::Default)
    }

    /// `from image` (credentials optional) and `from registry` (credentials required).
    fn image_base(&mut self, s: &FromStmt) -> Option<BaseOp> {
        let (kind, span) = (s.kind.to_string(), s.kind.span());
        let image = self.need_arg(s, "an image", "\"ubuntu:24.04\"")?;
        self.image(&image);
        let o = self.options(&format!("from {kind}"), &s.options, &["username", "password", "inherit_config"]);
        let inherit = self.opt_flag(&o, "inherit_config").unwrap_or(true);
        let required = kind == "registry";
        let has_any = o.has("username") || o.has("password");
        if required && !has_any && s.options.items.iter().all(|i| i.name == "inherit_config") {
            self.cx.push(
                Diagnostic::new(span, "`from registry` needs credentials")
                    .help("write `from registry \"host/image:tag\" (username = env(\"REGISTRY_USER\"), password = env(\"REGISTRY_PASSWORD\"));`, or `from image` for a public image"),
            );
            return None;
        }
        let user = self.secret(&o, "username", required || has_any, span);
        let pass = self.secret(&o, "password", required || has_any, span);
        let creds = match (user, pass) {
            (Some(u), Some(p)) => Some((u, p)),
            _ => None,
        };
        Some(BaseOp::Image(image, creds, inherit))
    }

    /// `from aws` and `from huawei`: an access key pair and a region.
    fn access_key_base(&mut self, s: &FromStmt) -> Option<BaseOp> {
        let (kind, span) = (s.kind.to_string(), s.kind.span());
        let image = self.need_arg(s, "an image", "\"123.dkr.ecr.us-west-2.amazonaws.com/app:1\"")?;
        self.image(&image);
        if s.options.items.is_empty() {
            self.cx.push(Diagnostic::new(span, format!("`from {kind}` needs credentials")).help(format!(
                "write `from {kind} \"...\" (access_key_id = env(\"ACCESS_KEY_ID\"), secret_access_key = env(\"SECRET_ACCESS_KEY\"), region = \"...\");`"
            )));
            return None;
        }
        let o = self.options(&format!("from {kind}"), &s.options, &["access_key_id", "secret_access_key", "region"]);
        let key = self.secret(&o, "access_key_id", true, span);
        let secret = self.secret(&o, "secret_access_key", true, span);
        let region = self.required_str(&o, "region", span);
        let (access_key_id, secret_access_key, region) = (key?, secret?, region?);
        Some(if kind == "aws" {
            BaseOp::Aws { image, access_key_id, secret_access_key, region }
        } else {
            BaseOp::Huawei { image, access_key_id, secret_access_key, region }
        })
    }

    fn gcp_base(&mut self, s: &FromStmt) -> Option<BaseOp> {
        let image = self.need_arg(s, "an image", "\"us-docker.pkg.dev/project/repo/app:1\"")?;
        self.image(&image);
        let o = self.options("from gcp", &s.options, &["service_account_json"]);
        let service_account = self.secret(&o, "service_account_json", true, s.kind.span())?;
        Some(BaseOp::Gcp { image, service_account })
    }

    /// `from oci`: Oracle Cloud's API key (only the private key is a secret, as in the runtime's
    /// `OciCredentials`) and the region.
    fn oci_base(&mut self, s: &FromStmt) -> Option<BaseOp> {
        let span = s.kind.span();
        let image = self.need_arg(s, "an image", "\"iad.ocir.io/namespace/app:1\"")?;
        self.image(&image);
        if s.options.items.is_empty() {
            self.cx.push(Diagnostic::new(span, "`from oci` needs credentials").help(
                "write `from oci \"...\" (tenancy_ocid = \"ocid1.tenancy...\", user_ocid = \"ocid1.user...\", \
                 fingerprint = \"aa:bb:...\", private_key = env(\"OCI_PRIVATE_KEY\"), region = \"us-ashburn-1\");`",
            ));
            return None;
        }
        let o = self.options("from oci", &s.options, &OCI_OPTIONS);
        let [tenancy_ocid, user_ocid, fingerprint] =
            ["tenancy_ocid", "user_ocid", "fingerprint"].map(|name| self.required_str(&o, name, span));
        let private_key = self.secret(&o, "private_key", true, span);
        let region = self.required_str(&o, "region", span);
        Some(BaseOp::Oci {
            image,
            tenancy_ocid: tenancy_ocid?,
            user_ocid: user_ocid?,
            fingerprint: fingerprint?,
            private_key: private_key?,
            region: region?,
        })
    }

    /// The steps that need a particular template as the base (`mcp server`, `devcontainer`),
    /// against the base: the runtime's rules, at each such statement. A base known only at run
    /// time (`from template {name}`) is left to `Template::validate`.
    pub(super) fn template_base_steps(&mut self, ops: &[Op]) {
        // `None`: no base yet, or its name is not known now; `Some(None)`: not a template.
        let mut base: Option<Option<String>> = None;
        for op in ops {
            let rule = match &op.kind {
                OpKind::Base(BaseOp::Template(name)) => {
                    base = name.value().map(Some);
                    continue;
                }
                OpKind::Base(_) => {
                    base = Some(None);
                    continue;
                }
                OpKind::McpServers(_) => rules::mcp_base,
                OpKind::DevContainerPrebuild(_) | OpKind::DevContainerStart(_) => rules::dev_container_base,
                _ => continue,
            };
            if let Some(template) = &base {
                self.cx.rule(op.span, rule(template.as_deref()));
            }
        }
    }

    fn template_base(&mut self, s: &FromStmt) -> Option<BaseOp> {
        let name = self.need_arg(s, "a template name", "\"my-base\"")?;
        self.str(&name);
        self.lit_rule(&name, |n| if n.trim().is_empty() { Err(Rule::EmptyTemplateName) } else { Ok(()) });
        Some(BaseOp::Template(name))
    }

    /// An image reference: a literal must follow Docker's reference grammar.
    pub(super) fn image(&mut self, s: &Str) {
        self.str(s);
        if self.lit_rule(s, rules::image_reference) {
            let provider = self.provider();
            self.lit_rule(s, |image| rules::base_on_provider(provider, image));
        }
    }
}
