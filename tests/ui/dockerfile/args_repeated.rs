use sandbox_template::template;

fn main() {
    let _ = template! {
        from dockerfile "args.Dockerfile" (arg PY = "3.12", arg "PY" = "3.13");
    };
}
