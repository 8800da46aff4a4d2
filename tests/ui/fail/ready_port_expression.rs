use sandbox_template::template;

fn main() {
    let port = 8000;
    let _ = template! {
        from base;
        start "srv" ready port {port};
    };
}
