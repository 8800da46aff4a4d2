use sandbox_template::template;

fn main() {
    let _ = template! {
        from gcp "us-docker.pkg.dev/p/r/a:1" (service_account_json = "{\"type\": \"service_account\"}");
    };
}
