use sandbox_template::template;

fn main() {
    let _ = template! {
        context {7};
        from base;
    };
}
