//! Credentials for private base images.

use crate::secret::Secret;

/// How the build service logs in to the registry of a private base image.
///
/// Every secret field is a [`Secret`], so `Debug` output shows where a credential comes from,
/// never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryCredentials {
    /// A generic registry with a username and password (`"type": "registry"`).
    Basic {
        /// User name.
        username: Secret,
        /// Password or token.
        password: Secret,
    },
    /// AWS ECR (`"type": "aws"`).
    Aws {
        /// Access key ID.
        access_key_id: Secret,
        /// Secret access key.
        secret_access_key: Secret,
        /// Region, e.g. `us-west-2`.
        region: String,
    },
    /// Google Artifact/Container Registry (`"type": "gcp"`).
    Gcp(GcpServiceAccount),
    /// Huawei Cloud SWR (`"type": "huawei"`, Novita only).
    Huawei {
        /// Access key ID.
        access_key_id: Secret,
        /// Secret access key.
        secret_access_key: Secret,
        /// Region, e.g. `cn-north-4`.
        region: String,
    },
    /// Oracle Cloud OCIR (`"type": "oci"`, Novita only).
    Oci(OciCredentials),
}

impl RegistryCredentials {
    /// The `type` field of `fromImageRegistry`.
    pub fn kind(&self) -> &'static str {
        match self {
            RegistryCredentials::Basic { .. } => "registry",
            RegistryCredentials::Aws { .. } => "aws",
            RegistryCredentials::Gcp(_) => "gcp",
            RegistryCredentials::Huawei { .. } => "huawei",
            RegistryCredentials::Oci(_) => "oci",
        }
    }
}

/// A GCP service-account key.
///
/// ```
/// use sandbox_template_runtime::{GcpServiceAccount, Secret};
/// // A key file, relative to the template's context folder, read when the build runs:
/// let from_file = GcpServiceAccount::file("sa.json");
/// // The JSON text itself (from a vault, an env var, ...):
/// let from_env = GcpServiceAccount::json(Secret::from_env("GCP_SA_JSON"));
/// # let _ = (from_file, from_env);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpServiceAccount(pub(crate) Secret);

impl GcpServiceAccount {
    /// The key's JSON text, sent verbatim.
    pub fn json(text: Secret) -> Self {
        GcpServiceAccount(text)
    }

    /// A key file; a relative path is resolved against the template's context folder.
    pub fn file(path: impl Into<std::path::PathBuf>) -> Self {
        GcpServiceAccount(Secret::from_file(path))
    }

    /// The underlying secret.
    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

/// Oracle Cloud OCIR credentials (Novita). The private key is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciCredentials {
    /// Tenancy OCID.
    pub tenancy_ocid: String,
    /// User OCID.
    pub user_ocid: String,
    /// API key fingerprint.
    pub fingerprint: String,
    /// API private key (PEM).
    pub private_key: Secret,
    /// Region, e.g. `us-ashburn-1`.
    pub region: String,
}
