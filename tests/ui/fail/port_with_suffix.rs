use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        start "srv" ready port 8000u16;
    };
}
