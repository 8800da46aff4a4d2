use sandbox_template::template;

fn main() {
    let _ = template! {
        from image "python@sha256:xyz";
    };
}
