use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        env PS1 = "$USER> " (literal = "yes");
    };
}
