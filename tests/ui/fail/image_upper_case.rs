use sandbox_template::template;

fn main() {
    let _ = template! {
        from image "Python:3.12";
    };
}
