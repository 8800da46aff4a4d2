use sandbox_template::template;

fn main() {
    // novita-sandbox builds on Debian-family images only.
    let _ = template! {
        provider novita;
        from alpine "3.20";
    };
    let _ = template! {
        provider novita;
        from image "python:3.12-alpine";
    };
    // E2B builds it; an image of unknown distro is not checked.
    let _ = template! {
        from alpine;
    };
    let _ = template! {
        provider novita;
        from image "ghcr.io/acme/app:1";
    };
}
