use sandbox_template::template;

fn main() {
    let _ = template! {
        from pyhton "3.12";
    };
}
