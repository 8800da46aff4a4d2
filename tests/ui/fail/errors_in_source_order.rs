use sandbox_template::template;

fn main() {
    let _ = template! {
        run "echo";
        from base;
        copy "files/missing.txt" => "/x";
        start "srv" ready port 0;
    };
}
