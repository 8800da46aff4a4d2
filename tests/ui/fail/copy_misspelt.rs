use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        copy "files/ntoes.txt" => "/x";
    };
}
