use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        ready timeout 2h;
    };
}
