use sandbox_template::template;

fn main() {
    let _ = template! {
        from dockerfile "args.Dockerfile" (args PY = "3.12");
    };
}
