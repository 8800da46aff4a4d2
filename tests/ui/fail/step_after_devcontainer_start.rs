use sandbox_template::template;

fn main() {
    // `devcontainer start` is the start command: it ends the template, as `start` does.
    let _ = template! {
        from template "devcontainer";
        devcontainer prebuild "/workspace";
        devcontainer start "/workspace";
        run "echo too late";
    };
}
