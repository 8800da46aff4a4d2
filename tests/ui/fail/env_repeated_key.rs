use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        env PORT = "1", HOST = "h", PORT = "2";
    };
}
