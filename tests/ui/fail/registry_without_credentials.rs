use sandbox_template::template;

fn main() {
    let _ = template! {
        from registry "registry.example.com/app:1";
    };
}
