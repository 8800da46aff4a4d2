use sandbox_template::template;

fn main() {
    let _ = template! {
        context "no-such-folder";
        from base;
    };
}
