use sandbox_template::template;

fn main() {
    let t = template! {
        from ubuntu "24.04";
        run "apt-get update && apt-get install -y curl" (user = "root");
        apt install "git";
        user "root";
        run "apt-get install -y vim";
        user "user";
        run "sudo apt-get install -y jq";
        run "echo 'apt-get install' > notes";
        run {"apt-get install -y later".to_owned()} (user = "root");
    };
    assert!(t.validate().is_ok());
}
