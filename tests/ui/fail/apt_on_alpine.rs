use sandbox_template::template;

fn main() {
    let _ = template! {
        from alpine "3.20";
        apt install "curl", "git";
    };
}
