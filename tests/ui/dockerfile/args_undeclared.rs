use sandbox_template::template;

fn main() {
    let _ = template! {
        from dockerfile "args.Dockerfile" (arg PY = "3.12", arg PYTHON_VERSION = "3.12");
    };
}
