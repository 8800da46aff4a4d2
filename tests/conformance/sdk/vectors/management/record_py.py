"""Records the requests the E2B Python SDK (e2b==2.63.0) sends for the template management calls
the JS SDK has no method for: its generated API client's `get_v2_templates` (list) and
`get_templates_template_id` (a template with its builds), through the SDK's own `ApiClient`
(its headers, its URL handling). Output: requests_py.json, in requests.json's shape.

    python -m venv venv && venv/bin/pip install e2b==2.63.0
    venv/bin/python record_py.py > requests_py.json
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

from e2b.api import ApiClient, encode_path_param
from e2b.api.client.api.templates import get_templates_template_id, get_v2_templates
from e2b.connection_config import ConnectionConfig

KEY = "e2b_0123456789abcdef0123456789abcdef01234567"
TEMPLATE = {"templateID": "tpl-1", "buildID": "b-1", "buildStatus": "ready", "aliases": [], "names": ["ns/app"],
            "buildCount": 2, "cpuCount": 2, "memoryMB": 1024, "diskSizeMB": 5120, "spawnCount": 0,
            "envdVersion": "0.2.0", "public": False, "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z", "lastSpawnedAt": None, "createdBy": None}
recorded = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        query = sorted(parse_qsl(url.query, keep_blank_values=True))
        recorded.append({"method": "GET", "path": url.path, "query": [list(p) for p in query], "body": None,
                         "apiKey": self.headers.get("x-api-key") == KEY})
        headers = {}
        if url.path == "/v2/templates":
            body = [TEMPLATE]
            if not any(k == "nextToken" for k, _ in query):
                headers["X-Next-Token"] = "tok+/=2"
        else:
            # e2b 2.63.0's TemplateWithBuilds: every field of Template, and the builds.
            body = dict(TEMPLATE)
            body["builds"] = [{"buildID": "00000000-0000-4000-8000-000000000002", "status": "building", "cpuCount": 2, "memoryMB": 1024,
                               "createdAt": "2026-01-02T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z"}]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = ApiClient(ConnectionConfig(api_key=KEY, api_url=f"http://127.0.0.1:{server.server_port}"))
    out = {}

    def record(name, fn):
        recorded.clear()
        res = fn()
        parsed = res.parsed.to_dict() if hasattr(res.parsed, "to_dict") else [t.to_dict() for t in res.parsed]
        out[name] = {"requests": list(recorded), "result": {"status": int(res.status_code),
                                                              "nextToken": res.headers.get("x-next-token"),
                                                              "parsed": parsed}}

    record("e2b list", lambda: get_v2_templates.sync_detailed(client=client))
    record("e2b list next", lambda: get_v2_templates.sync_detailed(client=client, next_token="tok+/=2", limit=50))
    # The SDK's own callers encode path parameters (`encode_path_param`); the generated
    # functions do not, so this call does it as they do.
    record("e2b get", lambda: get_templates_template_id.sync_detailed(encode_path_param("ns/app:v1"), client=client))
    server.shutdown()
    print(json.dumps(out, indent=1))


main()
