#!/usr/bin/env bash
# Re-records the official SDKs' outputs in vectors/ from the packages on the npm registry and PyPI
# (network: those two registries only), then shows how they differ from the committed files.
#
#   tests/conformance/sdk/record.sh           record into a scratch folder and diff (changes nothing)
#   tests/conformance/sdk/record.sh --write   ... and copy the new recordings over the committed ones
#
# Needs node/npm (20+) and python3 (3.9+ with venv). Run as root, like CI: the fixture chowns one folder.
#
# What is recorded:
#   vectors/js/NAME.{json,dockerfile}   node js/NAME.js        (e2b@2.51.0: Template.toJSON / toDockerfile)
#   vectors/py/NAME.{json,dockerfile}   python py/NAME.py      (e2b==2.63.0: Template.to_json / to_dockerfile)
#   vectors/novita/NAME.{json,dockerfile} node novita/NAME.js (novita-sandbox@2.1.1; its filesHash depends on
#                                       the file system's order, so only that line may differ)
#                                       (env_expand.js / env_quoting.js: the env script's expansion and
#                                       quoting; from a template, so no registry is read)
#   vectors/connection_config.js.out    node connection_config.js
#   vectors/connection_config_py.py.out python connection_config_py.py
#   vectors/surface/{e2b-js,e2b-py,novita-js}.txt  python3 surface.py (each SDK's template methods
#                                       and options, which docs/coverage.md must all map)
#   vectors/surface/mcp-servers-{e2b,novita}.txt  surface.py mcp (the names `addMcpServer` is typed
#                                       to accept; e2b's Python package must declare the same list)
# The scripts run in the layout they were written for: `_emit.js`, `make_fixture.sh` and the JS
# scripts in one folder (the recordings call it `<vectors>`), with the fixture (`ctx/`,
# `ctx-ignore/`, ...) beside them and the Python and Novita scripts in its `py/` and `novita/`
# subfolders.
#
# Not re-recorded here (see README.md): `expected/` (this project's target, derived from js/ and py/),
# `hash_vectors.json`/`hash_trace.txt`/`novita/novita_hash_trace.txt` (a tracing build of the
# JS SDK), `wire-transcript.md` (a recorded HTTP conversation against `mock_server.py`), and the
# Python tracebacks in `py/*.stderr` (they name the SDK's install path).
set -euo pipefail

E2B_JS=2.51.0
E2B_PY=2.63.0
NOVITA_JS=2.1.1

here="$(cd "$(dirname "$0")" && pwd)"
vectors="$here/vectors"
write=0
case "${1:-}" in
    --write) write=1 ;;
    "") ;;
    *) echo "usage: $0 [--write]" >&2; exit 2 ;;
esac

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "recording in $scratch"

# The exact SDK versions, in the scratch folder only (node finds node_modules from rec/ upwards).
(cd "$scratch" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent \
    "e2b@$E2B_JS" "novita-sandbox@$NOVITA_JS")
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check "e2b==$E2B_PY"
python="$scratch/venv/bin/python"

rec="$scratch/rec"
mkdir -p "$rec/py" "$rec/novita"
cp "$vectors/_emit.js" "$vectors/make_fixture.sh" "$vectors/connection_config.js" \
    "$vectors/connection_config_py.py" "$vectors"/js/*.js "$rec/"
cp "$vectors"/py/*.py "$rec/py/"
cp "$vectors"/novita/*.js "$rec/novita/"
sh "$rec/make_fixture.sh"

# Absolute scratch paths in messages become `<vectors>`, as in the committed recordings.
placeholder() {
    sed -i "s|$rec|<vectors>|g" "$@"
}

out="$scratch/out"
mkdir -p "$out/js" "$out/py" "$out/novita"

for script in "$vectors"/js/*.js; do
    name="$(basename "$script" .js)"
    (cd "$rec" && node "$name.js" >/dev/null)
    mv "$rec/$name.json" "$rec/$name.dockerfile" "$out/js/"
done

for script in "$vectors"/py/*.py; do
    name="$(basename "$script" .py)"
    [ "$name" = _emit ] && continue
    # A script the SDK fails in leaves only a traceback; the committed .stderr keeps the SDK's
    # source-checkout paths, so it is compared by its last line only.
    if ! (cd "$rec/py" && "$python" "$name.py" >/dev/null 2>"$out/py/$name.stderr"); then
        echo "py/$name.py failed: $(tail -n 1 "$out/py/$name.stderr")"
    else
        rm "$out/py/$name.stderr"
    fi
    for ext in json dockerfile; do
        [ -f "$rec/py/$name.$ext" ] && mv "$rec/py/$name.$ext" "$out/py/"
    done
done

for script in "$vectors"/novita/*.js; do
    name="$(basename "$script" .js)"
    [ "$name" = _emit ] && continue
    (cd "$rec/novita" && node "$name.js" >/dev/null)
    mv "$rec/novita/$name.json" "$rec/novita/$name.dockerfile" "$out/novita/"
done

(cd "$rec" && node connection_config.js >"$out/connection_config.js.out")
(cd "$rec" && "$python" connection_config_py.py >"$out/connection_config_py.py.out")

# The SDKs' typed surface. template-runtime/src/mcp.rs is tested to equal these files.
mkdir -p "$out/surface"
"$python" "$here/surface.py" mcp "$scratch/node_modules/e2b" >"$out/surface/mcp-servers-e2b.txt"
"$python" "$here/surface.py" mcp "$scratch/node_modules/novita-sandbox" >"$out/surface/mcp-servers-novita.txt"
e2b_py="$("$python" -c 'import e2b, os; print(os.path.dirname(e2b.__file__))')"
"$python" "$here/surface.py" mcp "$e2b_py" >"$scratch/mcp-servers-e2b-py.txt"

placeholder "$out"/js/* "$out"/py/* "$out"/novita/* "$out"/*.out

# The template surface of each SDK, for docs/coverage.md (surface.py says what a line is).
"$python" "$here/surface.py" py >"$out/surface/e2b-py.txt"
python3 "$here/surface.py" js "$scratch/node_modules/e2b/dist/index.d.ts" >"$out/surface/e2b-js.txt"
novita_dts="$(grep -l '^declare class TemplateBase' "$scratch"/node_modules/novita-sandbox/dist/index-*.d.ts | head -n 1)"
python3 "$here/surface.py" js "$novita_dts" >"$out/surface/novita-js.txt"

status=0
compare() { # compare NEW COMMITTED
    if [ ! -f "$2" ]; then
        echo "new: ${2#"$vectors"/}"
        status=1
    elif ! diff -u "$2" "$1" >"$scratch/diff"; then
        echo "differs: ${2#"$vectors"/}"
        cat "$scratch/diff"
        status=1
    fi
}
for f in "$out"/js/* "$out"/py/*.json "$out"/py/*.dockerfile "$out"/*.out "$out"/surface/*; do
    compare "$f" "$vectors/${f#"$out"/}"
done
# One E2B table serves both e2b SDKs, so their lists must agree.
if ! diff -u "$out/surface/mcp-servers-e2b.txt" "$scratch/mcp-servers-e2b-py.txt"; then
    echo "differs: e2b==$E2B_PY's McpServer (Python) from e2b@$E2B_JS's (JS)"
    status=1
fi
# novita-sandbox hashes a folder in the order the file system lists it (SPEC.md §C.3), so its
# filesHash differs between machines; the tests put this project's hash in its place anyway.
for f in "$out"/novita/*; do
    committed="$vectors/${f#"$out"/}"
    if cmp -s <(grep -v '"filesHash"' "$f") <(grep -v '"filesHash"' "$committed" 2>/dev/null); then
        cmp -s "$f" "$committed" || echo "note: ${committed#"$vectors"/}: only filesHash differs (file-system order)"
    else
        compare "$f" "$committed"
    fi
done
for f in "$out"/py/*.stderr; do
    [ -f "$f" ] || continue
    committed="$vectors/${f#"$out"/}"
    if [ "$(tail -n 1 "$f")" != "$(tail -n 1 "$committed" 2>/dev/null)" ]; then
        echo "differs (last line): ${committed#"$vectors"/}"
        status=1
    fi
done

if [ "$write" = 1 ]; then
    cp "$out"/js/* "$vectors/js/"
    cp "$out"/py/*.json "$out"/py/*.dockerfile "$vectors/py/"
    cp "$out"/novita/* "$vectors/novita/"
    cp "$out"/*.out "$vectors/"
    mkdir -p "$vectors/surface" && cp "$out"/surface/* "$vectors/surface/"
    echo "written; review with git diff, then update expected/ where a change is intended"
elif [ "$status" = 0 ]; then
    echo "the recordings match the committed vectors"
fi
exit "$status"
