use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        mcp server "exa", "brave";
    };
}
