use sandbox_template::template;

fn main() {
    let _ = template! {
        ignore "**/*.txt";
        from base;
        copy "files/notes.txt" => "/x";
    };
}
