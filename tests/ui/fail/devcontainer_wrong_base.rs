use sandbox_template::template;

fn main() {
    let _ = template! {
        from python "3.12";
        devcontainer prebuild "/dc";
    };
}
