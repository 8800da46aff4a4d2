use sandbox_template::template;

fn main() {
    let _ = template! {
        from image "acme/app:1" (username = env("REGISTRY_USER"), password = "hunter2");
    };
}
