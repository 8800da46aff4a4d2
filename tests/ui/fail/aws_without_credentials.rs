use sandbox_template::template;

fn main() {
    let _ = template! {
        from aws "1.dkr.ecr.us-west-2.amazonaws.com/a:1";
    };
}
