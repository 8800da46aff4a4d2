#!/usr/bin/env python3
"""Lists the template surface of an official SDK, one member per line, for docs/coverage.md.

    surface.py js  node_modules/e2b/dist/index.d.ts                  > vectors/surface/e2b-js.txt
    surface.py js  node_modules/novita-sandbox/dist/index-*.d.ts     > vectors/surface/novita-js.txt
    surface.py py  (with `e2b` importable, e.g. from a venv)          > vectors/surface/e2b-py.txt
    surface.py mcp PACKAGE_DIR                                        > vectors/surface/mcp-servers-*.txt

A line is `method` for a method of the SDK's template class (static or not, as the SDK spells it)
and `method.option` for each option it takes: the keys of an inline options object in JS
(`copy(src, dest, options?: { user?: string })` gives `copy.user`), the keyword parameters in
Python. Options behind a named type are read one level deep where that type is the template's own
(`BuildOptions` = `ConnectionOpts & BasicBuildOptions`: the `BasicBuildOptions` keys; the
constructor's `TemplateOptions`; `copyItems`' `CopyItem`). Connection options (`apiKey`, `domain`,
...) are the client's configuration, not the template's, and are left out: docs/coverage.md maps
them in one row.

`mcp PACKAGE_DIR` prints the MCP server names the SDK's `addMcpServer` accepts, one a line, in the
SDK's order. PACKAGE_DIR is an installed SDK: an npm package (`node_modules/e2b`,
`node_modules/novita-sandbox`), whose names are the keys of the interface behind `type
McpServerName = keyof ...` in its `dist/*.d.ts`, or the Python package (`site-packages/e2b`), whose
names are the keys of the `McpServer` TypedDict in `sandbox/mcp.py` (Python's `add_mcp_server`
takes any `str`, but that TypedDict is generated from the same schema as the TypeScript
interface). template-runtime/src/mcp.rs is tested to equal the committed lists.

Only public members are listed: `private` in the .d.ts, `_name` in Python. The .d.ts is read as
text rather than with TypeScript's compiler so that recording needs no package beyond the SDK; the
class body in a bundled .d.ts is regular (one member per line at one indentation), and the script
fails loudly if it finds no class.
"""

import re
import sys
from pathlib import Path

# Named option types read one level deep, per method (see the module docs).
NAMED_OPTIONS = {"BuildOptions": "BasicBuildOptions", "TemplateOptions": "TemplateOptions",
                 "GetBuildStatusOptions": "GetBuildStatusOptions", "TemplateListOpts": "TemplateListOpts",
                 "CopyItem[]": "CopyItem"}
# Python parameters that are optional positional arguments in JS too (`fromDebianImage(variant?)`,
# `pipInstall(packages?)`, `gitClone(url, path?)`, `build(template, name?)`), not options.
POSITIONAL = {"variant", "version", "packages", "path", "name"}
# Keys of those types that belong to the connection, not the template.
CONNECTION_KEYS = {"apiKey", "accessToken", "domain", "debug", "requestTimeoutMs", "logger", "headers",
                   "signal", "apiUrl", "sandboxUrl"}


def type_body(text, name):
    """The `{ ... }` body of `type NAME = ... {` or `interface NAME {` in a .d.ts, or None."""
    m = re.search(r"^(?:type|interface) " + re.escape(name) + r"\b[^{\n]*\{", text, re.M)
    if not m:
        return None
    return balanced(text, m.end() - 1)


def balanced(text, open_at):
    """The text between the brace at `open_at` and its match."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i]
    raise SystemExit("unbalanced braces in the .d.ts")


def keys(body):
    """The top-level keys of an object type body."""
    out, depth = [], 0
    for line in body.splitlines():
        s = line.strip()
        if depth == 0:
            m = re.match(r"(?:readonly )?([A-Za-z_][A-Za-z0-9_]*)\??:", s)
            if m:
                out.append(m.group(1))
        depth += s.count("{") - s.count("}")
    return out


def js(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^declare class TemplateBase\b[^{]*\{", text, re.M)
    if not m:
        raise SystemExit(f"no `declare class TemplateBase` in {path}")
    body = balanced(text, m.end() - 1)
    # Drop doc comments so that a `{` in one does not count.
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    lines, i = set(), 0
    members = re.finditer(r"^\s*(private |static )*(constructor|[a-zA-Z_][A-Za-z0-9_]*)(\(|;|:)", body, re.M)
    for mm in members:
        if mm.group(1) and "private" in mm.group(1):
            continue
        name = mm.group(2)
        if mm.group(3) != "(":
            continue  # a field, not a method
        # The parameter list: up to the parenthesis that closes it.
        depth, j = 0, mm.end() - 1
        while True:
            c = body[j]
            depth += c in "({"
            depth -= c in ")}"
            j += 1
            if depth == 0:
                break
        params = body[mm.end():j - 1]
        method = "Template" if name == "constructor" else name
        lines.add(method)
        for brace in re.finditer(r"\{", params):
            if params[:brace.start()].count("{") - params[:brace.start()].count("}") == 0:
                for k in keys(balanced(params, brace.start())):
                    lines.add(f"{method}.{k}")
        for named, target in NAMED_OPTIONS.items():
            if re.search(r"\b" + re.escape(named).replace(r"\[\]", r"\[\]") + r"(?![A-Za-z])", params):
                tb = type_body(text, target)
                for k in keys(tb or ""):
                    if k not in CONNECTION_KEYS:
                        lines.add(f"{method}.{k}")
    return sorted(lines, key=str.lower)


def py():
    import inspect
    from e2b import Template
    from e2b.template.main import TemplateBase, TemplateBuilder

    lines = set()
    for cls in (TemplateBase, TemplateBuilder, Template):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") and name != "__init__":
                continue
            if not callable(member):
                continue
            method = "Template" if name == "__init__" else name
            lines.add(method)
            try:
                sig = inspect.signature(member)
            except (TypeError, ValueError):
                continue
            for p in sig.parameters.values():
                optional = p.kind == p.KEYWORD_ONLY or (p.default is not p.empty and p.kind != p.VAR_KEYWORD)
                if optional and p.name not in POSITIONAL:
                    lines.add(f"{method}.{p.name}")
    return sorted(lines, key=str.lower)


def mcp_names_ts(package: Path) -> list[str]:
    for dts in sorted((package / "dist").glob("*.d.ts")):
        text = dts.read_text(encoding="utf-8")
        alias = re.search(r"^type McpServerName = keyof ([A-Za-z0-9_$]+);$", text, re.M)
        if not alias:
            continue
        start = re.search(r"^interface " + re.escape(alias.group(1)) + r" \{$", text, re.M)
        if not start:
            sys.exit(f"{dts}: `McpServerName` is `keyof {alias.group(1)}`, but that interface is not in the file")
        body = text[start.end() : text.index("\n}", start.end())]
        # Only the interface's own members are two-space indented; doc comments start with ` *`.
        return re.findall(r"^  ([A-Za-z0-9_$]+)\??:", body, re.M)
    sys.exit(f"{package}: no `type McpServerName = keyof ...` in dist/*.d.ts")


def mcp_names_py(package: Path) -> list[str]:
    text = (package / "sandbox" / "mcp.py").read_text(encoding="utf-8")
    start = re.search(r"^class McpServer\(TypedDict.*\):$", text, re.M)
    if not start:
        sys.exit(f"{package}/sandbox/mcp.py: no `class McpServer(TypedDict...)`")
    end = re.search(r"^\S", text[start.end() + 1 :], re.M)
    body = text[start.end() : start.end() + 1 + end.start()] if end else text[start.end() :]
    return re.findall(r"^    ([A-Za-z0-9_]+): NotRequired\[", body, re.M)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "js":
        out = js(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "py":
        out = py()
    elif len(sys.argv) == 3 and sys.argv[1] == "mcp":
        package = Path(sys.argv[2])
        out = mcp_names_py(package) if (package / "sandbox" / "mcp.py").is_file() else mcp_names_ts(package)
        if not out:
            sys.exit(f"{package}: the MCP server list is empty")
    else:
        raise SystemExit(__doc__)
    print("\n".join(out))
