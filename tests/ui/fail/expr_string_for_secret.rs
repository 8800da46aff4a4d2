use sandbox_template::template;

fn main() {
    let password = String::from("hunter2");
    let _ = template! {
        from image "registry.example.com/app:1" (username = env("REGISTRY_USER"), password = {password});
    };
}
