use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        git clone "https://github.com/a/b" (brnach = "main");
    };
}
