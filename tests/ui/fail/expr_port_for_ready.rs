use sandbox_template::template;

fn main() {
    let port: u16 = 8000;
    let _ = template! {
        from base;
        start "python -m http.server" ready {port};
    };
}
