use sandbox_template::template;

fn main() {
    let _ = template! {
        provider novito;
        from base;
    };
}
