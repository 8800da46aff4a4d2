//! Microbenchmarks of the build context on a generated tree (2,000 small files in 40 folders,
//! plus one 8 MiB file): enumeration, `filesHash`, tar.gz, and ignore-rule matching.
//! Whole-command timings on the big trees of `mkctx.sh` are in `bench/` (hyperfine).
//!
//! `cargo bench -p sandbox-template-runtime --bench context`

// `criterion_group!` defines an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sandbox_template_runtime::context::BuildContext;

fn tree(root: &Path) -> u64 {
    let mut bytes = 0;
    let mut seed = 0x9e3779b97f4a7c15u64;
    for d in 0..40 {
        let dir = root.join(format!("data/d{d:02}/sub"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..50 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 512 + (seed % 4096) as usize;
            let data: Vec<u8> = (0..len).map(|i| (seed >> (i % 56)) as u8 ^ i as u8).collect();
            bytes += len as u64;
            std::fs::write(dir.join(format!("f{f:03}.js")), data).unwrap();
        }
    }
    let big: Vec<u8> = (0..8u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
    bytes += big.len() as u64;
    std::fs::write(root.join("data/big.bin"), big).unwrap();
    std::fs::write(root.join("data/skip.log"), "x").unwrap();
    bytes
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = tree(tmp.path());
    let ctx = BuildContext::open(tmp.path()).unwrap().with_ignore_patterns(["**/*.log", "!keep.log"]).unwrap();

    let mut g = c.benchmark_group("context");
    g.sample_size(20);
    g.bench_function("enumerate", |b| b.iter(|| black_box(ctx.entries("data", false).unwrap())));
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("enumerate+hash", |b| {
        b.iter(|| black_box(ctx.source("data", "/app/", false).unwrap().files_hash().unwrap()))
    });
    let entries = ctx.entries("data", false).unwrap();
    g.bench_function("tar.gz", |b| {
        b.iter(|| ctx.write_archive(&entries, true, std::io::sink()).unwrap());
    });
    g.bench_function("tar", |b| {
        b.iter(|| ctx.write_archive(&entries, false, std::io::sink()).unwrap());
    });
    g.finish();

    let mut g = c.benchmark_group("glob");
    g.bench_function("enumerate **/*.js", |b| b.iter(|| black_box(ctx.entries("**/*.js", false).unwrap())));
    g.finish();
}

criterion_group!(context, benches);
criterion_main!(context);
