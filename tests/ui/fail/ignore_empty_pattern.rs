use sandbox_template::template;

fn main() {
    let _ = template! {
        ignore "";
        from base;
    };
}
