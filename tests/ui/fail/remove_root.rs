use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        remove "/tmp/build", "/" (recursive, force);
    };
}
