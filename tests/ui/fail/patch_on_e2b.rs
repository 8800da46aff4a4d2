use sandbox_template::template;

fn main() {
    let _ = template! {
        from image "ubuntu:24.04";
        patch "echo patched > /etc/patched";
    };
}
