use sandbox_template::template;

fn main() {
    let _ = template! {
        from aws "1.dkr.ecr.us-west-2.amazonaws.com/a:1" (access_key_id = "AKIA0000", secret_access_key = env("AWS_SECRET"), region = "us-west-2");
    };
}
