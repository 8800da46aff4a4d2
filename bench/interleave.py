#!/usr/bin/env python3
"""Round-robin timing of the build-context commands, for a shared, loaded machine: every round
runs each command once, in turn, so load changes hit all of them alike. Reports per command the
median wall time, median CPU (user+sys, children included) and peak RSS (all from wait4).

usage: python3 bench/interleave.py CTXROOT [ROUNDS] [TREES...]
env: CONTEXT_BENCH (our binary), E2B_NODE_MODULES, E2B_PY_SITE, NICE (run every command with
`nice -n NICE`, e.g. -10, as root), ONLY (comma-separated command-name prefixes to run)
"""
import json, os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
# Built by `cargo build --release -p sandbox-template-runtime --example context_bench`.
BIN = os.environ.get("CONTEXT_BENCH") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR") or os.path.join(HERE, "..", "target"), "release", "examples", "context_bench"
)
os.environ.setdefault("E2B_NODE_MODULES", "/tmp/e2bjs/node_modules")
os.environ.setdefault("E2B_PY_SITE", "/tmp/e2bpy")


NICE = os.environ.get("NICE")


def run(cmd):
    if NICE:
        # The same priority for every command: on a machine shared with other jobs this
        # approximates an idle machine without favouring any tool.
        cmd = f"nice -n {NICE} sh -c {json.dumps(cmd)}"
    t = time.perf_counter()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"failed: {cmd}: {p.stderr.read().decode()[-500:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main():
    root = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    trees = sys.argv[3:] or ["many-small", "node_modules-like", "few-large"]
    tmp = tempfile.mkdtemp()
    results = {}
    for t in trees:
        c = f"{root}/{t}"
        files = f"{tmp}/{t}.files"
        subprocess.run(f"find {c}/data -type f | LC_ALL=C sort > {files}; xargs cat < {files} > /dev/null", shell=True, check=True)
        cmds = {
            "ours: enumerate+hash": f"{BIN} hash {c} data",
            "JS Template.toJSON": f"node {HERE}/sdk/js_hash.js {c}",
            "Python Template.to_json": f"python3 {HERE}/sdk/py_hash.py {c}",
            "cat FILES | openssl dgst -sha256": f"xargs cat < {files} | openssl dgst -sha256",
            "ours: tar.gz": f"{BIN} tar {c} data {tmp}/ours.tgz",
            "JS tar.gz spooling": f"node {HERE}/sdk/js_tar.js {c}",
            "Python tar.gz": f"python3 {HERE}/sdk/py_tar.py {c}",
            "tar -c | pigz -p 2": f"tar -C {c} -c data | pigz -p 2 > {tmp}/pigz.tgz",
        }
        only = os.environ.get("ONLY")
        if only:
            cmds = {k: v for k, v in cmds.items() if any(k.startswith(p) for p in only.split(","))}
        samples = {k: [] for k in cmds}
        for r in range(rounds):
            for name, cmd in cmds.items():
                samples[name].append(run(cmd))
        results[t] = {}
        print(f"== {t} ({rounds} rounds; load {os.getloadavg()[0]:.1f})")
        for name, s in samples.items():
            wall = statistics.median(x[0] for x in s)
            cpu = statistics.median(x[1] for x in s)
            rss = max(x[2] for x in s)
            results[t][name] = {"wall": wall, "cpu": cpu, "rss_mb": rss, "walls": [x[0] for x in s]}
            print(f"  {name:34} wall {wall:7.3f} s  cpu {cpu:7.3f} s  rss {rss:7.1f} MB  runs {[round(x[0], 2) for x in s]}")
        sizes = {n: os.path.getsize(f"{tmp}/{n}") for n in ("ours.tgz", "pigz.tgz") if os.path.exists(f"{tmp}/{n}")}
        results[t]["sizes"] = sizes
        print(f"  sizes: {sizes}", flush=True)
    out = os.environ.get("OUT", "/tmp/context-bench.json")
    json.dump(results, open(out, "w"), indent=1)
    print("wrote", out)


main()
