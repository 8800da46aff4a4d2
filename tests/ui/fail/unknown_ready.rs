use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        start "srv" ready prot 8000;
    };
}
