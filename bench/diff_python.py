#!/usr/bin/env python3
"""Differential check: our enumeration and filesHash against the official Python SDK's own
functions (e2b==2.63.0: get_all_files_in_path, calculate_files_hash, read_dockerignore) on random
trees, random COPY sources (globs) and random ignore patterns.

usage: E2B_PY_SITE=/tmp/e2bpy CONTEXT_BENCH=target/release/examples/context_bench \
       python3 bench/diff_python.py [ROUNDS] [SEED]
"""
import os, random, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.environ.get("E2B_PY_SITE", "/tmp/e2bpy"))
from e2b.template.utils import calculate_files_hash, get_all_files_in_path, read_dockerignore  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# Built by `cargo build --release -p sandbox-template-runtime --example context_bench`.
BIN = os.environ.get("CONTEXT_BENCH") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR") or os.path.join(HERE, "..", "target"), "release", "examples", "context_bench"
)
NAMES = ["a", "b", "ab", "d1", "d2", ".hid", "x.txt", "y.log", "z.md", "é.txt", "keep", "node_modules", "a-b", "A"]
SOURCES = [".", "*", "**", "**/*.txt", "*/", "d?", "d1/*", "[ad]*", "**/keep", "a/**", "a/**/*.log", "./a",
           "d1/../a", "**/.hid", "*.txt", "[!d]*", "node_modules/**/x.txt", "a/b", "**/"]
IGNORES = ["*.log", "**/*.log", "d1", "d1/**", "!d1/keep", "!**/keep", "node_modules", "**/node_modules",
           "!node_modules/a", "a/*", "*/x.txt", "!a/x.txt", "**/.hid", ".hid", "**", "!**/*.md", "a/b/",
           "d?", "[ab]", "/a", "./d2", "**/z.md", "!d2/**"]


def make_tree(root, rng):
    dirs = [""]
    for _ in range(rng.randint(5, 40)):
        parent = rng.choice(dirs)
        name = rng.choice(NAMES)
        rel = f"{parent}/{name}" if parent else name
        p = os.path.join(root, rel)
        if os.path.lexists(p):
            continue
        kind = rng.random()
        if kind < 0.35 and rel.count("/") < 4:
            os.mkdir(p)
            os.chmod(p, rng.choice([0o755, 0o700]))
            dirs.append(rel)
        elif kind < 0.85:
            with open(p, "wb") as f:
                f.write(os.urandom(rng.randint(0, 64)))
            os.chmod(p, rng.choice([0o644, 0o600, 0o755]))
        else:
            target = rng.choice(["x.txt", "a", "../a", "missing", "d1/keep", ".."])
            os.symlink(target, p)
    if rng.random() < 0.3:
        with open(os.path.join(root, ".dockerignore"), "w") as f:
            f.write("\n".join(rng.sample(IGNORES, rng.randint(1, 3))) + "\n")


def ours(cmd, ctx, src, ignore, resolve):
    args = [BIN, cmd, ctx, src]
    if cmd == "hash":
        args.append("/dest")
    for p in ignore:
        args += ["--ignore", p]
    if resolve:
        args.append("--resolve")
    r = subprocess.run(args, capture_output=True, text=True)
    return ("ERR", r.stderr.strip()) if r.returncode else ("OK", r.stdout)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    bad = 0
    for i in range(rounds):
        root = tempfile.mkdtemp(prefix="ctxdiff-")
        try:
            make_tree(root, rng)
            src = rng.choice(SOURCES)
            ignore = rng.sample(IGNORES, rng.randint(0, 3))
            resolve = rng.random() < 0.3
            patterns = [*read_dockerignore(root), *ignore]
            try:
                py_list = [os.path.relpath(f, root) for f in get_all_files_in_path(src, root, patterns, True)]
                py_list = "".join(p + "\n" for p in py_list)
                py_hash = calculate_files_hash(src, "/dest", root, patterns, resolve, None)
                py = ("OK", py_list, py_hash + "\n")
            except Exception as e:  # noqa: BLE001
                py = ("ERR", str(e), "")
            ol, oh = ours("list", root, src, ignore, resolve), ours("hash", root, src, ignore, resolve)
            same = (py[0] == "ERR" and ol[0] == "ERR") or (py[0] == "OK" and ol == ("OK", py[1]) and oh == ("OK", py[2]))
            # The SDK has no escape check: an escaping resolved link is our deliberate error.
            if not same and ol[0] == "ERR" and "outside the context" in ol[1]:
                same = True
            if not same:
                bad += 1
                print(f"MISMATCH round {i}: src={src!r} ignore={ignore} resolve={resolve} tree={root}")
                print("  py  :", py)
                print("  ours:", ol, oh)
                continue
        finally:
            if not bad:
                shutil.rmtree(root, ignore_errors=True)
    print(f"{rounds - bad}/{rounds} agree")
    sys.exit(1 if bad else 0)


main()
