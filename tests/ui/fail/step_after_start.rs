use sandbox_template::template;

fn main() {
    let _ = template! {
        from base;
        start "python -m http.server 8000" ready port 8000;
        copy "files/notes.txt" => "/srv/notes.txt";
        run "echo reported once";
    };
}
