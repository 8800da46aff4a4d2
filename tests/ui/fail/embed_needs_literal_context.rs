use sandbox_template::template;

fn main() {
    let dir = "files";
    let _ = template! {
        context {dir};
        embed;
        from base;
    };
}
