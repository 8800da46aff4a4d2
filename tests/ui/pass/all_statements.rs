//! Every statement and option of the grammar, in one template.
use sandbox_template::template;

fn main() {
    let version = "3.12";
    let t = template! {
        context "../../it/dsl/fixtures";
        ignore "**/*.log", "target";
        skip_cache;
        from python {version};
        env APP_ENV = "production", "PORT" = "8000";
        workdir "/app";
        user "root";
        pip install "fastapi", "uvicorn" (global = false);
        npm install "express" (global, dev);
        bun install (dev = false);
        apt install "curl" (no_install_recommends, fix_missing = true);
        git clone "https://github.com/a/b" => "/src" (branch = "main", depth = 1, user = "root");
        mkdir "/data" (mode = 0o750, user = "app");
        remove "/tmp/x" (recursive, force, user = "root");
        rename "/a" => "/b" (force, user = "root");
        symlink "/usr/bin/python3" => "/usr/bin/python" (force);
        copy "app/main.py" => "/app/main.py";
        copy "app/static", "Dockerfile" => "/app/" (user = "app", mode = 0o755, force_upload, resolve_symlinks = false, gzip = false);
        skip_cache;
        run "python -m compileall /app" (user = "root");
        start "uvicorn main:app --port 8000" ready url "http://localhost:8000/health" status 200;
    };
    assert_eq!(t.steps().len(), 16);
}
