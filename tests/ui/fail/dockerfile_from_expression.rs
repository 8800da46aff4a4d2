use sandbox_template::template;

fn main() {
    let path = "Dockerfile";
    let _ = template! {
        from dockerfile {path};
    };
}
