use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        start "a" ready port 8000;
        ready port 9000;
    };
}
