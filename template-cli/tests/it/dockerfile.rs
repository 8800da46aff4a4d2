//! `sandbox-template dockerfile` on real `.tmpl` files.

use crate::support::{run, text, tmpl};

#[test]
fn dockerfile_prints_the_template_as_a_dockerfile() {
    let out = run(&["dockerfile", tmpl("api.tmpl").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let df = text(&out.stdout);
    assert!(df.starts_with("FROM python:3.12\nENV APP_ENV=production PORT=8000\nWORKDIR /app\n"), "{df}");
}

/// The default base image and the refusals follow the provider: the template's `provider`
/// statement, or `--provider`.
#[test]
fn dockerfile_follows_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.tmpl");
    std::fs::write(&plain, "from base;\nrun \"echo hi\";\n").unwrap();
    let novita = dir.path().join("novita.tmpl");
    std::fs::write(&novita, "provider novita;\nfrom base;\nrun \"echo hi\";\n").unwrap();
    let first_line = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).lines().next().unwrap().to_owned()
    };
    assert_eq!(first_line(&["dockerfile", plain.to_str().unwrap()]), "FROM e2bdev/base");
    assert_eq!(first_line(&["dockerfile", novita.to_str().unwrap()]), "FROM novita/base");
    assert_eq!(first_line(&["dockerfile", "--provider", "novita", plain.to_str().unwrap()]), "FROM novita/base");
    assert_eq!(first_line(&["dockerfile", "--provider", "e2b", novita.to_str().unwrap()]), "FROM e2bdev/base");

    // A template base names the provider's API in the refusal.
    let based = dir.path().join("based.tmpl");
    std::fs::write(&based, "from template \"my-base\";\n").unwrap();
    let out = run(&["dockerfile", "--provider", "novita", based.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Novita AI sandbox API"), "{}", text(&out.stderr));
    let out = run(&["dockerfile", based.to_str().unwrap()]);
    assert!(text(&out.stderr).contains("E2B API"), "{}", text(&out.stderr));

    // What E2B lacks is refused for E2B (the file's default provider: by its checks, at the
    // base's line) and printed for Novita.
    let base = "from huawei \"swr.cn-north-4.myhuaweicloud.com/org/img:1\" (access_key_id = env(\"DF_AK\"), \
                secret_access_key = env(\"DF_SK\"), region = \"cn-north-4\");\n";
    let huawei = dir.path().join("huawei.tmpl");
    std::fs::write(&huawei, base).unwrap();
    let out = run(&["dockerfile", "--provider", "novita", huawei.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("E2B has no Huawei Cloud registry"), "{stderr}");
    assert!(stderr.contains("huawei.tmpl:1:6"), "{stderr}");
    assert!(stderr.contains("`provider novita;` before `from`"), "{stderr}");
    let novita = dir.path().join("huawei-novita.tmpl");
    std::fs::write(&novita, format!("provider novita;\n{base}")).unwrap();
    let out = run(&["dockerfile", novita.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "FROM swr.cn-north-4.myhuaweicloud.com/org/img:1\n");
    let out = run(&["dockerfile", "--provider", "e2b", novita.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("E2B has no Huawei Cloud registry"), "{}", text(&out.stderr));
}
