use sandbox_template::template;

fn main() {
    let _ = template! {
        from template "mcp-gateway";
        mcp server "exa", "brvae";
    };
}
