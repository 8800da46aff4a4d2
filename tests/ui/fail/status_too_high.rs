use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        ready url "http://localhost/" status 600;
    };
}
