#!/usr/bin/env python3
"""The macro-cost benchmark (issue 3, item 8): two crates with the same 200 templates of 15
statements, one written with `template!`, one with builder calls.

    python3 template-dsl/bench/macro_cost.py /tmp/bench-dsl     # generates macro/ and builder/
    cd /tmp/bench-dsl && export CARGO_TARGET_DIR=/tmp/bench-target
    cargo check --manifest-path macro/Cargo.toml && cargo check --manifest-path builder/Cargo.toml
    hyperfine --warmup 2 --runs 20 \
      --prepare 'cargo clean -q -p bench-macro --manifest-path macro/Cargo.toml' \
        'cargo check -q --manifest-path macro/Cargo.toml' \
      --prepare 'cargo clean -q -p bench-builder --manifest-path builder/Cargo.toml' \
        'cargo check -q --manifest-path builder/Cargo.toml'

Results: BENCHMARKS.md, "What `template!` costs the user".
"""
import os, sys
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(OUT, exist_ok=True)
os.chdir(OUT)
N = 200
def dsl(i):
    return f'''    pub static T{i} = {{
        from python "3.12";
        env APP_ENV = "prod", INDEX = "{i}";
        workdir "/app";
        pip install "fastapi", "uvicorn=={i}.0";
        apt install "curl", "git" (no_install_recommends);
        run "echo build {i}";
        run "python -m compileall /app" (user = "root");
        mkdir "/data/{i}" (mode = 0o750);
        git clone "https://github.com/acme/repo{i}" => "/src" (branch = "main", depth = 1);
        user "app";
        remove "/tmp/cache" (recursive, force);
        symlink "/usr/bin/python3" => "/usr/local/bin/py{i}";
        rename "/app/a{i}" => "/app/b{i}";
        npm install "express" (global);
        start "uvicorn main:app --port 8000" ready port 8000;
    }};
'''
def builder(i):
    return f'''pub static T{i}: LazyLock<Template> = LazyLock::new(|| {{
    Template::new()
        .from_python_image("3.12")
        .set_envs([("APP_ENV", "prod"), ("INDEX", "{i}")])
        .set_workdir("/app")
        .pip_install(["fastapi", "uvicorn=={i}.0"])
        .apt_install_with(["curl", "git"], AptOptions::new().no_install_recommends(true))
        .run_cmd("echo build {i}")
        .run_cmd_with("python -m compileall /app", RunOptions::new().user("root"))
        .make_dir_with("/data/{i}", MakeDirOptions::new().mode(0o750))
        .git_clone_with("https://github.com/acme/repo{i}", GitCloneOptions::new().path("/src").branch("main").depth(1))
        .set_user("app")
        .remove_with("/tmp/cache", RemoveOptions::new().recursive(true).force(true))
        .make_symlink("/usr/bin/python3", "/usr/local/bin/py{i}")
        .rename("/app/a{i}", "/app/b{i}")
        .npm_install_with("express", JsInstallOptions::new().global(true))
        .set_start_cmd("uvicorn main:app --port 8000", wait_for_port(8000))
}});
'''
for kind in ["macro", "builder"]:
    os.makedirs(f"{kind}/src", exist_ok=True)
    open(f"{kind}/Cargo.toml","w").write(f'''[package]
name = "bench-{kind}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
sandbox-template = {{ path = "{REPO}", default-features = false }}

[workspace]
''')
    if kind == "macro":
        body = "sandbox_template::template! {\n" + "".join(dsl(i) for i in range(N)) + "}\n"
    else:
        body = "use std::sync::LazyLock;\nuse sandbox_template::*;\n\n" + "".join(builder(i) for i in range(N))
    open(f"{kind}/src/lib.rs","w").write(body)
