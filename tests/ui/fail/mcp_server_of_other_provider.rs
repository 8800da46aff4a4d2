use sandbox_template::template;

fn main() {
    // `n8n` is in e2b's list only: not taken for a misspelt `neon`.
    let _ = template! {
        provider novita;
        from template "mcp-gateway";
        mcp server "n8n";
    };
}
