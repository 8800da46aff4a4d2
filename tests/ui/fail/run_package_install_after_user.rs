use sandbox_template::template;

fn main() {
    let _ = template! {
        from ubuntu "24.04";
        user "root";
        run "apt-get update";
        user "guest";
        run "DEBIAN_FRONTEND=noninteractive apk add --no-cache curl";
    };
}
