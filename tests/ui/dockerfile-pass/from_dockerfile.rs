//! `from dockerfile "path";` gives the same template as the runtime's Dockerfile import
//! (`Template::from_dockerfile`), written out here as builder calls.

use std::time::Duration;

use sandbox_template::{Template, template, wait_for_timeout};

fn main() {
    let t = template! {
        context "../dockerfile";
        // Relative to this file, like `include_str!`.
        from dockerfile "../dockerfile/good.Dockerfile";
        run "echo after";
    };
    let dir = std::path::Path::new(file!()).parent().unwrap().join("../dockerfile");
    let dir = std::path::absolute(dir).unwrap();
    // What `Template::new().with_context(&dir).from_dockerfile("good.Dockerfile")` builds.
    let expected = Template::new()
        .with_context(&dir)
        .from_image("python:3.12")
        .set_user("root")
        .set_workdir("/")
        .run_cmd("pip install flask")
        .copy("app", "/app")
        .set_user("user")
        .set_workdir("/home/user")
        .set_start_cmd("python /app/main.py", wait_for_timeout(Duration::from_secs(20)))
        .run_cmd("echo after");
    assert_eq!(t.to_json().unwrap(), expected.to_json().unwrap());
}
