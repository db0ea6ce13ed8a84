"""A fake EHR for the SMART App Launch test: an authorization server and a
FHIR server on one loopback port, in a thread of the test process.

  GET  /ehr/launch                       the EHR's "open the app" button: 302 to
                                         <app>/app/launch?iss=<fhir>&launch=<opaque>
  GET  /fhir/.well-known/smart-configuration
  GET  /authorize                        checks client_id, redirect_uri, scope, aud,
                                         state, PKCE S256; auto-approves; 302 back
  POST /token                            checks code, redirect_uri, client_id and the
                                         PKCE verifier; access token, patient, id_token
  GET  /fhir/Patient/<id>/$everything    the patient's Bundle (bearer token required),
                                         in two pages to exercise `next`

It records what it saw (`events`) so the test can check the flow."""

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeEhr:
    def __init__(self, bundle_path, client_id, app_base, app_context=""):
        with open(bundle_path) as f:
            self.bundle = json.load(f)
        self.patient_id = next(e["resource"]["id"] for e in self.bundle["entry"]
                               if e["resource"]["resourceType"] == "Patient")
        self.client_id = client_id
        self.app_base = app_base
        self.app_context = app_context
        self.codes = {}
        self.tokens = set()
        self.launches = {}  # launch id -> appContext
        self.events = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.fhir = self.base + "/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        ehr = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, body=b"", headers=None, content_type="application/json"):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def fail(self, status, why):
                ehr.events.append(("refused", why))
                self.send(status, json.dumps({"error": why}).encode())

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/ehr/launch":
                    # The EHR opens an app: by default this app; or a CDS card's smart link
                    # (?app=<url>&appContext=<context>), as an EHR does when the link is clicked.
                    launch = secrets.token_urlsafe(16)
                    ehr.launches[launch] = query.get("appContext", ehr.app_context)
                    app = query.get("app", f"{ehr.app_base}/app/launch")
                    target = app + ("&" if "?" in app else "?") + urllib.parse.urlencode({"iss": ehr.fhir, "launch": launch})
                    return self.send(302, headers={"Location": target})
                if url.path == "/fhir/.well-known/smart-configuration":
                    return self.send(200, json.dumps({
                        "authorization_endpoint": ehr.base + "/authorize", "token_endpoint": ehr.base + "/token",
                        "code_challenge_methods_supported": ["S256"], "grant_types_supported": ["authorization_code"],
                        "capabilities": ["launch-ehr", "launch-standalone", "client-public", "context-ehr-patient",
                                         "context-standalone-patient", "sso-openid-connect", "permission-v2"],
                        "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "patient/*.read"]}).encode())
                if url.path == "/authorize":
                    scopes = query.get("scope", "").split()
                    if query.get("client_id") != ehr.client_id:
                        return self.fail(400, "client_id")
                    if not query.get("redirect_uri", "").startswith(ehr.app_base + "/app/launch/callback"):
                        return self.fail(400, "redirect_uri")
                    if query.get("aud") != ehr.fhir or query.get("response_type") != "code":
                        return self.fail(400, "aud or response_type")
                    if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                        return self.fail(400, "pkce")
                    needed = {"openid", "fhirUser", "patient/*.read"}
                    kind = "ehr" if "launch" in query else "standalone"
                    needed |= {"launch"} if kind == "ehr" else {"launch/patient"}
                    if not needed <= set(scopes):
                        return self.fail(400, f"scope {scopes}")
                    if kind == "ehr" and query["launch"] not in ehr.launches:
                        return self.fail(400, "launch")
                    code = secrets.token_urlsafe(24)
                    ehr.codes[code] = {"challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"],
                                       "scope": " ".join(scopes),
                                       "app_context": ehr.launches.get(query.get("launch"), ehr.app_context)}
                    ehr.events.append(("authorized", kind))
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
                    return self.send(302, headers={"Location": target})
                prefix = f"/fhir/Patient/{ehr.patient_id}/$everything"
                if url.path == prefix:
                    if self.headers.get("Authorization", "").removeprefix("Bearer ") not in ehr.tokens:
                        return self.fail(401, "token")
                    entries = ehr.bundle["entry"]
                    half = len(entries) // 2
                    page = query.get("page", "1")
                    bundle = {"resourceType": "Bundle", "type": "searchset"}
                    if page == "1":
                        bundle["entry"] = entries[:half]
                        bundle["link"] = [{"relation": "next", "url": ehr.fhir + prefix[len("/fhir"):] + "?page=2"}]
                    else:
                        bundle["entry"] = entries[half:]
                    ehr.events.append(("fhir", page))
                    return self.send(200, json.dumps(bundle).encode(), content_type="application/fhir+json")
                return self.fail(404, "not found " + url.path)

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if url.path != "/token":
                    return self.fail(404, "not found")
                grant = ehr.codes.pop(form.get("code", ""), None)
                if grant is None or form.get("grant_type") != "authorization_code":
                    return self.fail(400, "code")
                if form.get("client_id") != ehr.client_id or form.get("redirect_uri") != grant["redirect_uri"]:
                    return self.fail(400, "client or redirect_uri")
                if b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest()) != grant["challenge"]:
                    return self.fail(400, "code_verifier")
                token = secrets.token_urlsafe(24)
                ehr.tokens.add(token)
                claims = {"iss": ehr.fhir, "sub": "practitioner-1", "aud": ehr.client_id,
                          "fhirUser": ehr.fhir + "/Practitioner/practitioner-1", "exp": 4102444800, "iat": 1700000000}
                id_token = ".".join([b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()),
                                     b64url(json.dumps(claims).encode()), b64url(b"not-checked")])
                ehr.events.append(("token", "issued"))
                answer = {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": grant["scope"],
                          "patient": ehr.patient_id, "id_token": id_token}
                if grant["app_context"]:
                    answer["appContext"] = grant["app_context"]
                return self.send(200, json.dumps(answer).encode(), headers={"Cache-Control": "no-store"})

        return Handler
