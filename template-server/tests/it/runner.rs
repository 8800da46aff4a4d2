use sandbox_template_runtime::wire::BuildRequest;
use sandbox_template_server::runner::{BuildJob, Cancel};

fn job_with_registry(registry: serde_json::Value) -> BuildJob {
    let request: BuildRequest = serde_json::from_value(serde_json::json!({
        "fromImage": "registry.example.com/team/base:1",
        "fromImageRegistry": registry,
        "steps": [{"type": "RUN", "args": ["echo hi"]}],
    }))
    .unwrap();
    BuildJob {
        template_id: "tpl123".to_owned(),
        build_id: "build456".to_owned(),
        template_name: "app".to_owned(),
        request,
        archives: vec![None],
        cancel: Cancel::new(),
    }
}

#[test]
fn a_jobs_debug_output_holds_no_registry_secret() {
    let cases = [
        (
            serde_json::json!({"type": "registry", "username": "deploy", "password": "s3cret-registry-pw"}),
            vec!["s3cret-registry-pw"],
        ),
        (
            serde_json::json!({"type": "aws", "awsAccessKeyId": "AKIAEXAMPLEKEY", "awsSecretAccessKey": "aws-s3cret-key", "awsRegion": "eu-west-1"}),
            vec!["AKIAEXAMPLEKEY", "aws-s3cret-key"],
        ),
        (
            serde_json::json!({"type": "gcp", "serviceAccountJson": "{\"private_key\": \"gcp-s3cret\"}"}),
            vec!["gcp-s3cret"],
        ),
    ];
    for (registry, secrets) in cases {
        let kind = registry["type"].as_str().unwrap().to_owned();
        let job = job_with_registry(registry);
        for shown in [format!("{job:?}"), format!("{job:#?}")] {
            for secret in &secrets {
                assert!(!shown.contains(secret), "{kind}: the Debug output shows `{secret}`: {shown}");
            }
            // Still useful for debugging: what the job is, and which kind of credentials it has.
            assert!(shown.contains("build456") && shown.contains("echo hi") && shown.contains(&kind), "{shown}");
        }
        // The job itself keeps the credentials: the engine needs them.
        assert!(job.request.from_image_registry.unwrap().to_string().contains(secrets[0]));
    }
}
