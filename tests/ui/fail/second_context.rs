use sandbox_template::template;

fn main() {
    let _ = template! {
        context "files";
        context "files";
        from base;
    };
}
