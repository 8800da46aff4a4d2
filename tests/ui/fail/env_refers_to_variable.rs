use sandbox_template::template;

fn main() {
    let _ = template! {
        provider e2b;
        from base;
        env APP_ENV = "production", DATA = "${HOME}/data";
    };
}
