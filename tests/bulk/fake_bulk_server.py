"""A fake FHIR Bulk Data server for the tests of `regenpath screen
--fhir-server`: serves the NDJSON files of a directory (those of the _type asked) through $export,
a status URL and file URLs, and misbehaves on demand.

  server = FakeBulkServer(directory, token="secret", faults={...}); server.start(); ... server.stop()

Kick-off at the three levels: /fhir/$export (system), /fhir/Patient/$export and
/fhir/Group/<id>/$export for an id in `groups` (another id: 404). Every level serves every file of the
directory (the fake has no group membership); server.levels[export number] says which level was asked
("system", "Patient" or "Group/<id>") and server.types[export number] the _type set (None: every type).

faults (counts are decremented as they are used; every Retry-After sent is `retry_after`, "0" unless given):
  kickoff_429: answer the kick-off 429 this many times
  status_202: answer the status URL 202 this many times
  status_500: then 500 this many times
  truncate: send the first N file downloads cut short (Content-Length says more)
  download_429: answer the first N file downloads 429 with Retry-After
  download_503: then answer N file downloads 503 (an OperationOutcome, no Retry-After)
  download_reset: then send N file downloads' headers and half their body, and reset the connection (RST)
  expire: answer 410 to file downloads of the first export (its URLs have "expired")
  fail_file: answer 400 to every download of this file name (e.g. "Procedure.000.ndjson")
  revoke_tokens: at the status URL, expire every issued access token and answer 401, this many times
Every request is logged in server.log as (method, path, query), and when it arrived (time.monotonic())
at the same index of server.log_times.

SMART Backend Services: with smart={"client_id": ..., "public_key_pem": ..., "kid": ..., "expires_in": N},
the server also publishes /fhir/.well-known/smart-configuration and a token endpoint (/auth/token) that
accepts only a client_credentials request with a JWT client assertion (RS384 or ES384) signed by that
public key (iss = sub = client_id, aud = the token endpoint, not expired, jti not reused, kid matching),
and answers with a new access token valid for expires_in seconds (server time); the FHIR URLs then
accept any token it issued and has not seen expire (plus `token`, if set). server.tokens_issued counts.
"""
import base64
import http.server
import json
import os
import re
import socket
import struct
import threading
import time
import urllib.parse

KICKOFF = re.compile(r"^/fhir(?:/(Patient)|/(Group)/([^/]+))?/\$export$")


class FakeBulkServer:
    def __init__(self, directory, token="secret", faults=None, port=0, smart=None, groups=("pain-clinic",),
                 retry_after="0"):
        self.directory = directory
        self.groups = set(groups)
        self.retry_after = retry_after
        self.token = token
        self.smart = smart
        self.issued = {}  # access token -> expiry (time.time())
        self.tokens_issued = 0
        self.jtis = set()
        self.faults = dict(faults or {})
        self.log = []
        self.log_times = []
        self.exports = 0
        self.types = {}  # export number -> the _type set (None: every type)
        self.levels = {}  # export number -> "system", "Patient" or "Group/<id>"
        self.requests = {}  # export number -> the kick-off URL
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

    def authorized(self, header):
        if header is None or not header.startswith("Bearer "):
            return False
        token = header[len("Bearer "):]
        if self.token is not None and token == self.token:
            return True
        with self.lock:
            return self.issued.get(token, 0) > time.time()

    def check_assertion(self, form):
        """The reason a token request is refused, or None."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

        def field(name):
            return form.get(name, [""])[0]

        if field("grant_type") != "client_credentials":
            return "unsupported_grant_type"
        if field("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "invalid_request: client_assertion_type"
        if field("scope") != "system/*.read":
            return "invalid_scope"
        parts = field("client_assertion").split(".")
        if len(parts) != 3:
            return "invalid_client: not a JWT"

        def decode(part):
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        try:
            header, claims, signature = json.loads(decode(parts[0])), json.loads(decode(parts[1])), decode(parts[2])
        except ValueError:
            return "invalid_client: not a JWT"
        if header.get("kid") != self.smart["kid"] or header.get("typ") != "JWT":
            return "invalid_client: unknown kid"
        key = serialization.load_pem_public_key(self.smart["public_key_pem"].encode())
        signed = (parts[0] + "." + parts[1]).encode()
        try:
            if header.get("alg") == "RS384":
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA384())
            elif header.get("alg") == "ES384" and len(signature) == 96:
                der = utils.encode_dss_signature(int.from_bytes(signature[:48], "big"),
                                                 int.from_bytes(signature[48:], "big"))
                key.verify(der, signed, ec.ECDSA(hashes.SHA384()))
            else:
                return "invalid_client: unsupported alg"
        except (InvalidSignature, TypeError, AttributeError):
            return "invalid_client: bad signature"
        if claims.get("iss") != self.smart["client_id"] or claims.get("sub") != self.smart["client_id"]:
            return "invalid_client: iss/sub"
        if claims.get("aud") != self.token_url:
            return "invalid_client: aud"
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= time.time() or exp > time.time() + 300 + 5:
            return "invalid_client: exp"
        with self.lock:
            if not claims.get("jti") or claims["jti"] in self.jtis:
                return "invalid_client: jti reused"
            self.jtis.add(claims["jti"])
        return None

    @property
    def token_url(self):
        return "http://127.0.0.1:%d/auth/token" % self.port

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

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                with server.lock:
                    server.log.append(("POST", url.path, url.query))
                    server.log_times.append(time.monotonic())
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                if url.path != "/auth/token" or server.smart is None:
                    return self.outcome(404, "no such URL")
                if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                    return self.send(400, b'{"error":"invalid_request"}', {"Content-Type": "application/json"})
                refused = server.check_assertion(urllib.parse.parse_qs(body))
                if refused:
                    error, _, description = refused.partition(": ")
                    answer = {"error": error, "error_description": description or error}
                    return self.send(400 if error != "invalid_client" else 401, json.dumps(answer).encode(),
                                     {"Content-Type": "application/json"})
                token = base64.urlsafe_b64encode(os.urandom(24)).decode()
                expires_in = server.smart.get("expires_in", 300)
                with server.lock:
                    server.issued[token] = time.time() + expires_in
                    server.tokens_issued += 1
                answer = {"access_token": token, "token_type": "bearer", "expires_in": expires_in,
                          "scope": "system/*.read"}
                return self.send(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                with server.lock:
                    server.log.append(("GET", url.path, url.query))
                    server.log_times.append(time.monotonic())
                if url.path == "/fhir/.well-known/smart-configuration" and server.smart is not None:
                    config = {"token_endpoint": server.token_url, "grant_types_supported": ["client_credentials"],
                              "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                              "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
                              "scopes_supported": ["system/*.read"]}
                    return self.send(200, json.dumps(config).encode(), {"Content-Type": "application/json"})
                if not server.authorized(self.headers.get("Authorization")):
                    return self.outcome(401, "no or wrong bearer token")
                kickoff = KICKOFF.match(url.path)
                if kickoff:
                    level = "system"
                    if kickoff.group(1):
                        level = "Patient"
                    elif kickoff.group(2):
                        level = "Group/" + kickoff.group(3)
                    if kickoff.group(2) and kickoff.group(3) not in server.groups:
                        return self.outcome(404, "no such Group")
                    if self.headers.get("Prefer") != "respond-async":
                        return self.outcome(400, "Prefer: respond-async is required")
                    if server.take("kickoff_429"):
                        return self.send(429, b"", {"Retry-After": server.retry_after})
                    types = urllib.parse.parse_qs(url.query).get("_type", [""])[0]
                    with server.lock:
                        server.exports += 1
                        export = server.exports
                        server.types[export] = set(types.split(",")) if types else None
                        server.levels[export] = level
                        server.requests[export] = "http://127.0.0.1:%d%s" % (server.port, self.path)
                    return self.send(202, b"", {"Content-Location": "%s/status/%d" % (server.base, export)})
                if url.path.startswith("/fhir/status/"):
                    export = int(url.path.rsplit("/", 1)[1])
                    if server.take("revoke_tokens"):
                        # Every issued token expires now (as if its time ran out).
                        with server.lock:
                            server.issued.clear()
                        return self.outcome(401, "the access token has expired")
                    if server.take("status_202"):
                        return self.send(202, b"", {"Retry-After": server.retry_after, "X-Progress": "working"})
                    if server.take("status_500"):
                        return self.outcome(500, "temporary failure")
                    wanted = server.types.get(export)
                    output = [{"type": name.split(".")[0], "url": "%s/files/%d/%s" % (server.base, export, name)}
                              for name in server.files() if wanted is None or name.split(".")[0] in wanted]
                    manifest = {"transactionTime": "2025-06-01T00:00:00Z", "request": server.requests.get(export, server.base + "/$export"),
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
                    if server.take("download_429"):
                        return self.send(429, b"", {"Retry-After": server.retry_after})
                    if server.take("download_503"):
                        return self.outcome(503, "busy")
                    if server.take("download_reset"):
                        self.send_response(200)
                        self.send_header("Content-Type", "application/fhir+ndjson")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body[: len(body) // 2])
                        # SO_LINGER 0: close() sends a reset, not a FIN.
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.connection.close()
                        self.close_connection = True
                        return
                    if server.take("truncate"):
                        self.send(200, body[: len(body) // 2], {"Content-Type": "application/fhir+ndjson"},
                                  length=len(body))
                        self.close_connection = True
                        return
                    return self.send(200, body, {"Content-Type": "application/fhir+ndjson"})
                return self.outcome(404, "no such URL")

        return Handler
