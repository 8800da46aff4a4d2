use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        start " " ready port 8000;
    };
}
