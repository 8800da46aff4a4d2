use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        env APP-ENV = "x";
    };
}
