//! Whole-command driver for the build-context benchmarks (`bench/` runs it with hyperfine next
//! to the official SDKs) and for checking enumeration against the Python SDK.
//!
//! ```text
//! context_bench hash DIR SRC [DEST] [--resolve] [--ignore PATTERN]...   # prints the filesHash
//! context_bench list DIR SRC [--resolve] [--ignore PATTERN]...          # prints the entries
//! context_bench tar  DIR SRC OUT [--no-gzip] [--resolve] [--ignore PATTERN]...
//! ```
//! `DEST` defaults to `/app/`, like `bench/js_hash.js`.

use std::process::ExitCode;

use sandbox_template_runtime::context::BuildContext;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let (mut resolve, mut gzip, mut ignore) = (false, true, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--resolve" => resolve = true,
            "--no-gzip" => gzip = false,
            "--ignore" => ignore.push(args.next().ok_or("--ignore needs a pattern")?),
            _ => positional.push(a),
        }
    }
    let usage = "usage: context_bench (hash DIR SRC [DEST] | list DIR SRC | tar DIR SRC OUT) [--resolve] [--no-gzip] [--ignore P]...";
    let [cmd, dir, src, rest @ ..] = positional.as_slice() else { return Err(usage.into()) };
    let ctx = BuildContext::open(dir)?.with_ignore_patterns(ignore)?;
    match cmd.as_str() {
        "hash" => {
            let dest = rest.first().map_or("/app/", String::as_str);
            println!("{}", ctx.source(src, dest, resolve)?.files_hash()?);
        }
        "list" => {
            for e in ctx.entries(src, resolve)? {
                println!("{}", e.path().display());
            }
        }
        "tar" => {
            let out = rest.first().ok_or(usage)?;
            let entries = ctx.entries(src, resolve)?;
            let file = std::fs::File::create(out)?;
            let n = ctx.write_archive(&entries, gzip, file)?;
            println!("{n}");
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
