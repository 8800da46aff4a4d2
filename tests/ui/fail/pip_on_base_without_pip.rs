use sandbox_template::template;

fn main() {
    let _ = template! {
        from ubuntu "24.04";
        pip install "requests";
    };
}
