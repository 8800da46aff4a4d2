use sandbox_template::template;

fn main() {
    let _ = template! {
        from template "devcontainer";
        devcontainer start "/dc";
        start "sleep infinity" ready timeout 1s;
    };
}
