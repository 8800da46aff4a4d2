//! The SDKs' typed surface as `surface.py` recorded it (`vectors/surface/`): the tables the rules
//! check against are those lists, so a re-recording that changes a list fails here until the
//! table in `template-runtime/src/mcp.rs` is updated.

use sandbox_template::Provider;

use crate::support::vectors_dir;

#[test]
fn mcp_server_tables_are_the_recorded_sdk_lists() {
    for (provider, file) in [(Provider::E2b, "mcp-servers-e2b.txt"), (Provider::Novita, "mcp-servers-novita.txt")] {
        let path = vectors_dir().join("surface").join(file);
        let recorded = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let recorded: Vec<&str> = recorded.lines().collect();
        assert_eq!(provider.mcp_servers(), recorded, "template-runtime/src/mcp.rs against {}", path.display());
    }
}
