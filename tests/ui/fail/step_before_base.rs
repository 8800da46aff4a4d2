use sandbox_template::template;

fn main() {
    let _ = template! {
        run "echo hi";
        from base;
    };
}
