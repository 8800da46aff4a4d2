use sandbox_template::template;

fn main() {
    let _ = template! {
        provider novita;
        context "../../it/dsl/fixtures";
        from base;
        copy "app" => "/app" (gzip = false);
    };
}
