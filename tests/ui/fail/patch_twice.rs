use sandbox_template::template;

fn main() {
    let _ = template! {
        provider novita;
        from base;
        patch "echo one";
        patch "echo two";
    };
}
