//! The build services a template can target.

use std::fmt;
use std::str::FromStr;

/// A sandbox cloud. The same template serializes slightly differently for each (default base
/// image, ready-check commands, Novita's environment file step); see the `to_json_for` docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Provider {
    /// [E2B](https://e2b.dev): base `e2bdev/base`, env `E2B_API_KEY`.
    #[default]
    E2b,
    /// [Novita](https://novita.ai) sandboxes: base `novita/base`, env `NOVITA_API_KEY`.
    Novita,
}

impl Provider {
    /// The image a template uses when it names no base.
    pub fn default_base_image(self) -> &'static str {
        match self {
            Provider::E2b => "e2bdev/base",
            Provider::Novita => "novita/base",
        }
    }

    /// The MCP server names the provider's official SDK accepts in `addMcpServer` (its
    /// `McpServerName` type), in the SDK's order: what
    /// [`rules::mcp_server_name`](crate::rules::mcp_server_name) holds the names of
    /// [`Template::add_mcp_server`](crate::Template::add_mcp_server) to. Recorded from e2b@2.51.0
    /// (e2b==2.63.0 for Python lists the same) and novita-sandbox@2.1.1.
    ///
    /// ```
    /// use sandbox_template_runtime::Provider;
    /// assert!(Provider::E2b.mcp_servers().contains(&"brave"));
    /// assert!(Provider::E2b.mcp_servers().contains(&"n8n"));
    /// assert!(!Provider::Novita.mcp_servers().contains(&"n8n"));
    /// ```
    pub fn mcp_servers(self) -> &'static [&'static str] {
        match self {
            Provider::E2b => crate::mcp::MCP_SERVERS_E2B,
            Provider::Novita => crate::mcp::MCP_SERVERS_NOVITA,
        }
    }

    /// Lower-case name, as accepted by `--provider`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::E2b => "e2b",
            Provider::Novita => "novita",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown provider name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{0}`: expected `e2b` or `novita`")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "e2b" => Ok(Provider::E2b),
            "novita" => Ok(Provider::Novita),
            _ => Err(UnknownProvider(s.to_owned())),
        }
    }
}
