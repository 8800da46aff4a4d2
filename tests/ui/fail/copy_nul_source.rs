use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        copy "files/a\0b" => "/x";
    };
}
