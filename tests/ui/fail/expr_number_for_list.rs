use sandbox_template::template;

fn main() {
    let workers = 4;
    let _ = template! {
        from base;
        run {workers};
    };
}
