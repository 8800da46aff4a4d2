use sandbox_template::template;

fn main() {
    // Steps run as the cloud's default user `user`, where apt-get fails with "permission denied".
    let _ = template! {
        from base;
        run "apt-get update", "apt-get install -y vim";
    };
}
