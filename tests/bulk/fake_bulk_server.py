"""A fake FHIR Bulk Data server for the tests of `regenpath screen
--fhir-server`: serves the NDJSON files of a directory (those of the _type asked) through $export,
a status URL and file URLs, and misbehaves on demand.

  server = FakeBulkServer(directory, token="secret", faults={...}); server.start(); ... server.stop()

faults (counts are decremented as they are used):
  kickoff_429: answer the kick-off 429 (Retry-After: 0) this many times
  status_202: answer the status URL 202 (Retry-After: 0) this many times
  status_500: then 500 this many times
  truncate: send the first N file downloads cut short (Content-Length says more)
  expire: answer 410 to file downloads of the first export (its URLs have "expired")
  fail_file: answer 400 to every download of this file name (e.g. "Procedure.000.ndjson")
Every request is logged in server.log as (method, path).
"""
import http.server
import json
import os
import threading
import urllib.parse


class FakeBulkServer:
    def __init__(self, directory, token="secret", faults=None, port=0):
        self.directory = directory
        self.token = token
        self.faults = dict(faults or {})
        self.log = []
        self.exports = 0
        self.types = {}  # export number -> the _type set (None: every type)
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d/fhir" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def take(self, fault):
        with self.lock:
            if self.faults.get(fault, 0) > 0:
                self.faults[fault] -= 1
                return True
            return False

    def files(self):
        return sorted(name for name in os.listdir(self.directory)
                      if name.endswith(".ndjson") and name[0].isupper())

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, status, body=b"", headers=None, length=None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)

            def outcome(self, status, text):
                body = json.dumps({"resourceType": "OperationOutcome",
                                   "issue": [{"severity": "error", "code": "processing", "diagnostics": text}]})
                self.send(status, body.encode(), {"Content-Type": "application/fhir+json"})

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                with server.lock:
                    server.log.append(("GET", url.path, url.query))
                if self.headers.get("Authorization") != "Bearer " + server.token:
                    return self.outcome(401, "no or wrong bearer token")
                if url.path == "/fhir/$export":
                    if self.headers.get("Prefer") != "respond-async":
                        return self.outcome(400, "Prefer: respond-async is required")
                    if server.take("kickoff_429"):
                        return self.send(429, b"", {"Retry-After": "0"})
                    types = urllib.parse.parse_qs(url.query).get("_type", [""])[0]
                    with server.lock:
                        server.exports += 1
                        export = server.exports
                        server.types[export] = set(types.split(",")) if types else None
                    return self.send(202, b"", {"Content-Location": "%s/status/%d" % (server.base, export)})
                if url.path.startswith("/fhir/status/"):
                    export = int(url.path.rsplit("/", 1)[1])
                    if server.take("status_202"):
                        return self.send(202, b"", {"Retry-After": "0", "X-Progress": "working"})
                    if server.take("status_500"):
                        return self.outcome(500, "temporary failure")
                    wanted = server.types.get(export)
                    output = [{"type": name.split(".")[0], "url": "%s/files/%d/%s" % (server.base, export, name)}
                              for name in server.files() if wanted is None or name.split(".")[0] in wanted]
                    manifest = {"transactionTime": "2025-06-01T00:00:00Z", "request": server.base + "/$export",
                                "requiresAccessToken": True, "output": output, "error": []}
                    return self.send(200, json.dumps(manifest).encode(), {"Content-Type": "application/json"})
                if url.path.startswith("/fhir/files/"):
                    _, _, _, export, name = url.path.split("/", 4)
                    if server.faults.get("expire") and int(export) == 1:
                        return self.outcome(410, "this export's files have expired")
                    if server.faults.get("fail_file") == name:
                        return self.outcome(400, "cannot read the file")
                    with open(os.path.join(server.directory, name), "rb") as handle:
                        body = handle.read()
                    if server.take("truncate"):
                        self.send(200, body[: len(body) // 2], {"Content-Type": "application/fhir+ndjson"},
                                  length=len(body))
                        self.close_connection = True
                        return
                    return self.send(200, body, {"Content-Type": "application/fhir+ndjson"})
                return self.outcome(404, "no such URL")

        return Handler
