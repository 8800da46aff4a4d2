use sandbox_template::template;

fn main() {
    // E2B sets the imported `ENV PATH=/usr/local/cargo/bin:$PATH` as written.
    let _ = template! {
        from dockerfile "env_path.Dockerfile";
    };
}
