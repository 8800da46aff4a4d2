use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        mkdir "/data" (mode = 0o17777);
    };
}
