use sandbox_template::template;

fn main() {
    // E2B (the default provider) sets env values as written: PATH would hold the text `$PATH`.
    let _ = template! {
        from base;
        env PATH = "/usr/local/cargo/bin:$PATH";
    };
}
