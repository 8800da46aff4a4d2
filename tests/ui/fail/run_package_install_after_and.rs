use sandbox_template::template;

fn main() {
    // A template base starts as the default user too; `sudo` is the default user's way to root.
    let _ = template! {
        from template "my-base";
        run "sudo apt-get update";
        run "cd /tmp && dnf -y install gcc" (user = "guest");
    };
}
