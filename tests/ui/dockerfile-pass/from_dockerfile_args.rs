//! `from dockerfile "path" (arg NAME = "value");` converts the Dockerfile with that build arg:
//! the same template as `Template::from_dockerfile_with` and `DockerfileOptions::build_arg`.

use sandbox_template::dockerfile::DockerfileOptions;
use sandbox_template::{Template, template};

fn main() {
    let t = template! {
        from dockerfile "../dockerfile/args.Dockerfile" (arg PY = "3.12", arg "GREETING" = "hi");
    };
    let json = t.to_json().unwrap();
    // `ARG PY=3.11` + `FROM python:${PY}`: the arg wins over the default.
    assert!(json.contains(r#""fromImage": "python:3.12""#), "{json}");
    // A stage ARG is in the environment of `RUN`, as under Docker.
    assert!(json.contains("export GREETING=hi; echo"), "{json}");

    let text = include_str!("../dockerfile/args.Dockerfile");
    let options = DockerfileOptions::new().build_arg("PY", "3.12").build_arg("GREETING", "hi");
    let expected = Template::new().from_dockerfile_with(text, &options).unwrap();
    assert_eq!(json, expected.to_json().unwrap());

    // Without args, the Dockerfile's defaults.
    let defaults = template! { from dockerfile "../dockerfile/args.Dockerfile"; };
    assert!(defaults.to_json().unwrap().contains(r#""fromImage": "python:3.11""#));
}
