use sandbox_template::template;

fn main() {
    // The base's own package manager.
    let alpine = template! {
        from alpine;
        run "apk add --no-cache curl" (user = "root");
    };
    let arch = template! {
        from arch;
        run "pacman -Syu --noconfirm git" (user = "root");
    };
    // An image whose distro is unknown is not checked.
    let unknown = template! {
        from image "ghcr.io/acme/app:1.2.3";
        apt install "curl";
    };
    // A version given at run time: the distro is known only then, and `validate` checks it.
    let tag = "3.20";
    let later = template! {
        from alpine {tag};
        apt install "curl";
    };
    assert!(alpine.validate().is_ok() && arch.validate().is_ok() && unknown.validate().is_ok());
    assert!(later.validate().is_err());
}
