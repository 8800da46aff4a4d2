use sandbox_template::template;

fn main() {
    let version = String::from("3.12");
    let _ = template! {
        from dockerfile "args.Dockerfile" (arg PY = {version});
    };
}
