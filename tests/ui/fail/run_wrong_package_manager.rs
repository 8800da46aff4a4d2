use sandbox_template::template;

fn main() {
    let _ = template! {
        from image "fedora:41";
        user "root";
        run "dnf makecache", "apt-get update && apt-get install -y curl";
    };
    let _ = template! {
        from python "3.12-alpine";
        run "apt-get install -y curl" (user = "root");
    };
}
