use sandbox_template::template;

fn main() {
    let _ = template! {
        from dockerfile "missing-copy.Dockerfile";
    };
}
