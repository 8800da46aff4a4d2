#!/usr/bin/env python3
"""Reads parts of the official SDKs' typed surface out of their installed packages.

    surface.py mcp PACKAGE_DIR    the MCP server names the SDK's `addMcpServer` accepts, one a line

PACKAGE_DIR is an installed SDK: an npm package (`node_modules/e2b`, `node_modules/novita-sandbox`),
whose names are the keys of the interface behind `type McpServerName = keyof ...` in its
`dist/*.d.ts`, or the Python package (`site-packages/e2b`), whose names are the keys of the
`McpServer` TypedDict in `sandbox/mcp.py` (Python's `add_mcp_server` takes any `str`, but that
TypedDict is generated from the same schema as the TypeScript interface). The names are printed in
the order the SDK declares them. record.sh calls this; the Rust tables in
template-runtime/src/mcp.rs are tested to equal its output as committed under vectors/surface/.
"""

import re
import sys
from pathlib import Path


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


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] != "mcp":
        sys.exit(__doc__)
    package = Path(sys.argv[2])
    names = mcp_names_py(package) if (package / "sandbox" / "mcp.py").is_file() else mcp_names_ts(package)
    if not names:
        sys.exit(f"{package}: the MCP server list is empty")
    print("\n".join(names))


if __name__ == "__main__":
    main()
