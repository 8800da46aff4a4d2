use sandbox_template::template;

fn main() {
    let _ = template! {
        from dockerfile "args.Dockerfile" (arg = "3.12");
    };
}
