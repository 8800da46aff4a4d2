//! Prints the build request of each template compiled from `templates/` by `build.rs`.

mod templates {
    // `templates/api.tmpl` -> `API`, `templates/queue-worker.tmpl` -> `QUEUE_WORKER`.
    sandbox_template::include_templates!();
}

fn main() -> Result<(), sandbox_template::Error> {
    // `ALL` lists every template with its name (the file name without `.tmpl`).
    for (name, template) in templates::ALL {
        println!("// {name}\n{}", template.to_json()?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sandbox_template::{Template, wait_for_port, wait_for_process};

    #[test]
    fn constants_are_the_templates_in_the_files() {
        let api = Template::new()
            .from_python_image("3.12")
            .set_envs([("APP_ENV", "production")])
            .set_workdir("/app")
            .pip_install(["fastapi", "uvicorn"])
            .set_start_cmd("uvicorn main:app --host 0.0.0.0 --port 8000", wait_for_port(8000));
        assert_eq!(super::templates::API.to_json().unwrap(), api.to_json().unwrap());
        let worker = Template::new()
            .from_node_image("22")
            .npm_install_with("bullmq", sandbox_template::JsInstallOptions::new().global(true))
            .set_start_cmd("node worker.js", wait_for_process("node"));
        assert_eq!(super::templates::QUEUE_WORKER.to_json().unwrap(), worker.to_json().unwrap());
        let names: Vec<&str> = super::templates::ALL.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["api", "queue-worker"]);
    }
}
