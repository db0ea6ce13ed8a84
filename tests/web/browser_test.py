#!/usr/bin/python3
"""The clinician web app in a real browser (Debian chromium, headless, driven
by Selenium): starts `regenpath serve --insecure-dev` on a free loopback port
with a registry seeded by `regenpath registry demo`, then

  - every page loads with no console error and no serious/critical axe-core
    violation (axe-core from npm, installed by scripts/setup-web-test.sh into
    build/web-test/, injected into the page);
  - the server's headers: CSP without inline script, MIME types, path
    traversal refused;
  - uploading a Synthea bundle shows its assessment with the data behind the
    criteria, and a datum opens its resource;
  - recording a score on the Outcomes page adds a point to the chart;
  - the patient page's render time for the largest bundle (printed).

Screenshots go to SCREEN_DIR (build/web-screens/). Usage:
  browser_test.py REGENPATH_BINARY SOURCE_DIR BUILD_DIR
Run with /usr/bin/python3 (Debian's python3-selenium)."""

import base64
import http.client
import re
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BINARY, SOURCE_DIR, BUILD_DIR = sys.argv[1:4]
SHARED = os.environ.get("REGENPATH_SHARED_DIR") or os.path.join(SOURCE_DIR, "..", "shared")
SYNTHEA = os.path.realpath(os.path.join(SHARED, "testdata", "synthea", "r4-bundles-pain-subset"))
BULK = os.path.realpath(os.path.join(SHARED, "testdata", "synthea", "bulk-ndjson-10-patients"))
AXE = os.path.join(BUILD_DIR, "web-test", "node_modules", "axe-core", "axe.min.js")
SCREEN_DIR = os.path.join(BUILD_DIR, "web-screens")
# A Synthea patient with options, evidence and medication holds.
OPTIONS_PATIENT = "Pierre_Bosco_85812c4a-7b8e-4754-aaa4-64b3aef16f7e.json"
FAILURES = []


def check(condition, message):
    if condition:
        print(f"ok    {message}")
    else:
        print(f"FAIL  {message}")
        FAILURES.append(message)


def audit_actors(database):
    """The set of actors in a registry database's audit table (but the
    server's own schema migration, actor regenpath-serve)."""
    import sqlite3
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT actor FROM audit WHERE actor <> 'regenpath-serve'")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work, demo, screening_dir=None):
    """`regenpath serve --insecure-dev` on a free port; `demo`: its registry
    seeded with `regenpath registry demo` (a synthetic registry refuses other
    data, so recording runs against a server with an empty registry)."""
    work = os.path.join(work, "demo" if demo else "empty")
    data = os.path.join(work, "data")
    os.makedirs(data)
    secret = os.path.join(work, "site-secret")
    with open(secret, "w") as f:
        f.write("browser-test-site-secret-0123456789abcdef\n")
    os.chmod(secret, 0o600)
    with open(os.path.join(work, "registry.yaml"), "w") as f:
        f.write(f"database: {data}/registry.sqlite\nsite_secret_file: {secret}\n")
    with open(os.path.join(work, "serve.yaml"), "w") as f:
        f.write(f"data_dir: {data}\nregistry_config: {work}/registry.yaml\nlog_level: warn\n")
        if screening_dir:
            f.write(f"screening_dir: {screening_dir}\n")
    if demo:
        subprocess.run([BINARY, "registry", "--database", f"{data}/registry.sqlite", "demo"], check=True,
                       stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(os.path.join(work, "serve.log"), "w")
    process = subprocess.Popen([BINARY, "serve", "--insecure-dev", "--port", str(port), "--config",
                                os.path.join(work, "serve.yaml"), "--web-root", os.path.join(SOURCE_DIR, "web")],
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return process, base
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("regenpath serve exited: " + open(os.path.join(work, "serve.log")).read())
            time.sleep(0.1)
    raise RuntimeError("regenpath serve did not answer /healthz")


def raw_get(base, path):
    host, port = base[len("http://"):].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    connection.close()
    return response.status, headers, body


def check_headers(base):
    status, headers, body = raw_get(base, "/app/")
    check(status == 200 and headers.get("content-type", "").startswith("text/html"), "/app/ is HTML")
    csp = headers.get("content-security-policy", "")
    check("script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp,
          f"CSP without inline script: {csp}")
    check(headers.get("x-content-type-options") == "nosniff", "nosniff")
    status, headers, _ = raw_get(base, "/app/js/common.js")
    check(status == 200 and headers.get("content-type", "").startswith("text/javascript"), "JS served as text/javascript")
    check(headers.get("cache-control") == "no-cache" and headers.get("etag"), "JS revalidated with an ETag")
    for path in ["/app/../CMakeLists.txt", "/app/%2e%2e/CMakeLists.txt", "/app/..%2fCMakeLists.txt",
                 "/app/js/../../README.md", "/app/.git/config", "/app//etc/passwd"]:
        status, _, body = raw_get(base, path)
        check(status == 404 and b"regenpath" not in body, f"traversal refused: {path} -> {status}")


def request(base, method, path, body=b"", headers=None):
    host, port = base[len("http://"):].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def check_api(base):
    fhir = {"Content-Type": "application/fhir+json"}
    status, body = request(base, "POST", "/api/assess", b"{not json", fhir)
    check(status == 400 and b"OperationOutcome" in body, f"/api/assess: malformed JSON -> 400 OperationOutcome ({status})")
    status, _ = request(base, "POST", "/api/assess", b"{}", {"Content-Type": "text/plain"})
    check(status == 415, f"/api/assess: text/plain -> 415 ({status})")
    status, _ = request(base, "GET", "/api/assess")
    check(status == 405, f"GET /api/assess -> 405 ({status})")
    status, _ = request(base, "POST", "/api/assess", b"{}", dict(fhir, Origin="https://evil.example"))
    check(status == 403, f"cross-origin POST /api/assess -> 403 ({status})")
    with open(os.path.join(SYNTHEA, OPTIONS_PATIENT), "rb") as f:
        status, body = request(base, "POST", "/api/assess?now=2026-11-24", f.read(), dict(fhir, Origin=base))
    answer = json.loads(body) if status == 200 else {}
    check(answer.get("schema") == "regenpath.assessment/1" and answer.get("evaluated_at", "").startswith("2026-11-24"),
          f"/api/assess answers the Assessment JSON ({status})")
    status, body = request(base, "GET", "/api/kb")
    kb = json.loads(body) if status == 200 else {}
    check(any(r.get("resourceType") == "PlanDefinition" for r in kb.get("resources", [])) and kb.get("instruments"),
          "/api/kb answers the knowledge base")
    status, body = request(base, "POST", "/api/outcomes", b'{"nothing":1}', {"Content-Type": "application/json"})
    check(status == 400, f"/api/outcomes without a patient -> 400 ({status})")
    status, body = request(base, "GET", "/api/screening")
    check(status == 200 and json.loads(body) == {"configured": False},
          f"/api/screening without screening_dir -> not configured ({status} {body[:80]!r})")


def worklist_paging_test(driver, base):
    """The Worklist reads GET /registry/due a page (100) at a time and pages with the cursor: each page shows
    exactly the items of the whole list at its place."""
    status, body = request(base, "GET", "/api/registry/due?page_size=10000")
    whole = json.loads(body)["items"] if status == 200 else []
    check(len(whole) > 200, f"the demo worklist has more than two pages ({status}, {len(whole)} items)")

    def shown():
        return [tuple(td.text for td in tr.find_elements(By.CSS_SELECTOR, "td"))
                for tr in driver.find_elements(By.CSS_SELECTOR, "#worklist tbody tr")]

    def expected(begin, end):
        return [(f"{i['window_start']} – {i['window_end']}", i["patient"], i["instrument"]) for i in whole[begin:end]]

    def page_is(first):
        last = min(first + 99, len(whole))
        WebDriverWait(driver, 20).until(lambda d: f"items {first}–{last}" in d.find_element(By.ID, "status").text)
        rows = [(r[1], r[2], r[4]) for r in shown()]
        check(rows == expected(first - 1, last),
              f"worklist page from item {first} shows the whole list's items {first}-{last} ({len(rows)} rows)")

    page_is(1)
    check(driver.find_element(By.ID, "worklist-previous").get_attribute("disabled") is not None,
          "the first worklist page has no previous page")
    driver.find_element(By.ID, "worklist-next").click()
    page_is(101)
    driver.find_element(By.ID, "worklist-next").click()
    page_is(201)
    driver.find_element(By.ID, "worklist-previous").click()
    page_is(101)
    driver.find_element(By.ID, "worklist-previous").click()
    page_is(1)
    check(not console_errors(driver), "worklist paging: no console errors")


def candidate_exports(work):
    """Two exports of one regenerative candidate each (a disc candidate
    scenario): one whole, and one under another id without its Patient
    resource (a candidate on no worklist). Returns their directories."""
    # A candidate with regenerative options open (the worklist's).
    scenario = "disc-candidate-baseline-nrs-outdated"
    with open(os.path.join(SOURCE_DIR, "tests", "scenarios", scenario + ".json")) as f:
        text = f.read()
    dirs = []
    for name, renamed, keep_patient in (("with-patient", text, True),
                                        ("without-patient", text.replace(scenario, "disc-nopatient"), False)):
        directory = os.path.join(work, name)
        os.makedirs(directory, exist_ok=True)
        by_type = {}
        for entry in json.loads(renamed)["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] != "Patient" or keep_patient:
                by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
        for resource_type, lines in by_type.items():
            with open(os.path.join(directory, resource_type + ".ndjson"), "w") as f:
                f.write("\n".join(lines) + "\n")
        dirs.append(directory)
    return dirs


def screening_test(driver, base, screen_dir):
    """The Worklist shows the latest `regenpath screen` result of the server's screening_dir."""
    with open(os.path.join(screen_dir, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(screen_dir, "Group.json")) as f:
        members = [m["entity"]["reference"] for m in json.load(f).get("member", [])]
    wait(driver, "#screening-summary")
    text = driver.find_element(By.ID, "screening-summary").text
    expected = (f"{summary['assessed']} of {summary['patients']} patients assessed, "
                f"{summary['regenerative_candidates']} regenerative candidates")
    check(expected in text and summary["evaluated_at"] in text, f"the worklist shows the screening summary ({text!r})")
    rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#screening-candidates tbody td")]
    check(rows == members, f"the worklist lists the screening's candidates by reference ({rows} vs {members})")
    check(len(members) == 1 and summary["candidates_not_in_group"]["no_patient_resource"] == 1,
          f"the screening has a candidate on the worklist and one without a Patient resource ({summary})")
    left_off = driver.find_element(By.ID, "screening-not-in-group").text
    check("1 more candidate(s) are on no worklist: 1 no patient resource" in left_off,
          f"the worklist says which candidates are on no worklist and why ({left_off!r})")
    stages = driver.find_elements(By.CSS_SELECTOR, "#screening li")
    check(len(stages) == len(summary["stages"]), f"the worklist shows the screening's stage counts ({len(stages)})")
    section = driver.find_element(By.ID, "screening").text
    check("null" not in section and "undefined" not in section, f"the screening section shows no null/undefined ({section!r})")
    check(not console_errors(driver), "worklist with screening: no console errors")
    run_axe(driver, "worklist-screening")
    status, body = request(base, "GET", "/api/screening")
    answer = json.loads(body) if status == 200 else {}
    check(answer.get("available") and answer["result"]["candidates"] == members
          and answer["result"]["summary"]["patients"] == summary["patients"],
          f"/api/screening answers the latest summary and candidates ({status})")
    driver.save_screenshot(os.path.join(SCREEN_DIR, "worklist.png"))


def period_test(driver, base, database):
    """The dashboard's period filter: only episodes started in [from, to]."""
    import sqlite3

    def episodes(query):
        status, body = request(base, "GET", "/api/registry/reports" + query)
        report = json.loads(body) if status == 200 else {}
        return status, sum(g["episodes"] for o in report.get("options", []) for g in o["groups"])

    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        expected = db.execute("SELECT count(*) FROM episodes WHERE substr(start_date, 1, 10) "
                              "BETWEEN '2025-06-01' AND '2025-12-31'").fetchone()[0]
    _, everything = episodes("?group_by=none")
    status, in_period = episodes("?group_by=none&from=2025-06-01&to=2025-12-31")
    check(status == 200 and in_period == expected and 0 < in_period < everything,
          f"the report's period keeps the episodes started in it ({in_period} of {everything}; expected {expected})")
    for query in ("?from=2025-13-01", "?from=yesterday", "?from=2025-12-31&to=2025-06-01"):
        status, _ = episodes(query)
        check(status == 400, f"a bad period {query} -> 400 ({status})")
    Select(driver.find_element(By.ID, "option")).select_by_value("")  # every option, as the API call above
    driver.execute_script("document.getElementById('period-from').value = '2025-06-01';"
                          "document.getElementById('period-to').value = '2025-12-31'")
    driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "started 2025-06-01" in d.find_element(By.ID, "status").text)
    import re
    shown = sum(int(m.group(1)) for h in driver.find_elements(By.CSS_SELECTOR, "#report h3")
                if (m := re.search(r"(\d+) episodes, ", h.get_attribute("textContent"))))
    check(shown == in_period, f"the dashboard shows the period's episodes ({shown} of {in_period})")
    check(not console_errors(driver), "dashboard with a period: no console errors")
    run_axe(driver, "registry-period")


def start_smart_server(work, ehr_factory):
    """`regenpath serve` with authentication on (a JWT issuer that nobody uses
    here) and the SMART launch configured for the fake EHR."""
    from cryptography.hazmat.primitives.asymmetric import ec
    work = os.path.join(work, "smart")
    data = os.path.join(work, "data")
    os.makedirs(data)
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
           "x": base64.urlsafe_b64encode(numbers.x.to_bytes(32, "big")).rstrip(b"=").decode(),
           "y": base64.urlsafe_b64encode(numbers.y.to_bytes(32, "big")).rstrip(b"=").decode()}
    with open(os.path.join(work, "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f)
    secret = os.path.join(work, "site-secret")
    with open(secret, "w") as f:
        f.write("smart-test-site-secret-0123456789abcdef\n")
    os.chmod(secret, 0o600)
    with open(os.path.join(work, "registry.yaml"), "w") as f:
        f.write(f"database: {data}/registry.sqlite\nsite_secret_file: {secret}\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ehr = ehr_factory(base).start()
    with open(os.path.join(work, "serve.yaml"), "w") as f:
        f.write(f"data_dir: {data}\nregistry_config: {work}/registry.yaml\nlog_level: info\n"
                f"auth:\n  issuers:\n    - issuer: https://unused-ehr.example\n      jwks_file: {work}/jwks.json\n"
                f"fhir_client:\n  allow_http: true\n  allowed_private_networks: [127.0.0.0/8]\n"
                f"smart:\n  client_id: regenpath-web\n  issuers: [{ehr.fhir}]\n")
    log = open(os.path.join(work, "serve.log"), "w")
    process = subprocess.Popen([BINARY, "serve", "--port", str(port), "--config", os.path.join(work, "serve.yaml"),
                                "--web-root", os.path.join(SOURCE_DIR, "web")], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return process, base, ehr, os.path.join(work, "serve.log"), key
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("regenpath serve exited: " + open(os.path.join(work, "serve.log")).read())
            time.sleep(0.1)
    raise RuntimeError("regenpath serve did not answer /healthz")


def es256_jwt(key, claims):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "k1"}).encode()) + "." + \
        b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def card_link_test(driver, work, base, ehr, key, bundle):
    import uuid

    def token(path):
        now = int(time.time())
        return "Bearer " + es256_jwt(key, {"iss": "https://unused-ehr.example", "aud": base + path, "iat": now,
                                           "exp": now + 300, "jti": str(uuid.uuid4())})
    status, discovery = request(base, "GET", "/cds-services", headers={"Authorization": token("/cds-services")})
    check(status == 200, f"CDS discovery with a signed JWT ({status})")
    discovery_path = os.path.join(work, "discovery.json")
    with open(discovery_path, "wb") as f:
        f.write(discovery)
    body = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "bench", "make_cds_request.py"), discovery_path,
                           bundle], check=True, capture_output=True).stdout
    path = "/cds-services/regenpath-patient-view"
    status, answer = request(base, "POST", path, body, {"Authorization": token(path), "Content-Type": "application/json"})
    cards = json.loads(answer).get("cards", []) if status == 200 else []
    links = [link for card in cards for link in card.get("links", []) if link.get("type") == "smart"]
    check(any(l.get("appContext") == "knee-osteoarthritis" and l.get("url") == base + "/app/launch" for l in links),
          f"the patient-view card carries a smart link with the condition as appContext ({links})")
    if not links:
        return
    link = next(l for l in links if l.get("appContext") == "knee-osteoarthritis")
    driver.delete_all_cookies()
    driver.get(ehr.base + "/ehr/launch?" + urllib.parse.urlencode({"app": link["url"], "appContext": link["appContext"]}))
    wait(driver, "#assessment section.condition", 30)
    shown = driver.find_element(By.CSS_SELECTOR, "#summary-h + dl.defs dd").text
    check(shown == f"Patient/{ehr.patient_id}", f"the card's link opens the right patient ({shown})")
    focused = driver.execute_script("return document.activeElement && document.activeElement.id")
    check(focused == "c-knee-osteoarthritis", f"... on the card's condition ({focused})")


def smart_tests(driver, work, servers):
    import fake_ehr
    bundle = os.path.join(SYNTHEA, OPTIONS_PATIENT)
    process, base, ehr, log_path, key = start_smart_server(
        work, lambda app: fake_ehr.FakeEhr(bundle, "regenpath-web", app, app_context="knee-osteoarthritis"))
    servers.append(process)
    try:
        status, body = request(base, "GET", "/api/registry/due")
        check(status == 401, f"registry data without a signed-in user -> 401 ({status})")
        status, body = request(base, "POST", "/api/assess", b"{}", {"Content-Type": "application/fhir+json"})
        check(status == 401, f"/api/assess without a signed-in user -> 401 ({status})")
        status, body = request(base, "GET", "/app/launch?iss=https%3A%2F%2Fevil.example%2Ffhir")
        check(status == 400, f"a launch from an iss not configured is refused ({status})")

        # EHR launch: the EHR's button, the authorization with PKCE, back to the app with a session.
        driver.delete_all_cookies()
        driver.get(ehr.base + "/ehr/launch")
        wait(driver, "#assessment section.condition", 30)
        check(("authorized", "ehr") in ehr.events and ("token", "issued") in ehr.events,
              f"EHR launch completed against the fake EHR ({ehr.events})")
        check("Practitioner/practitioner-1" in driver.find_element(By.ID, "mode").text,
              f"signed in as the EHR's user ({driver.find_element(By.ID, 'mode').text})")
        check(driver.current_url == base + "/app/", f"no patient data in the app's URL ({driver.current_url})")
        cookie = next((c for c in driver.get_cookies() if c["name"] == "rp_session"), None)
        check(cookie is not None and cookie.get("httpOnly") and cookie.get("secure") and cookie.get("sameSite") == "Strict",
              f"session cookie HttpOnly; Secure; SameSite=Strict ({cookie and {k: cookie.get(k) for k in ('httpOnly', 'secure', 'sameSite')}})")
        check(driver.execute_script("return document.cookie.includes('rp_session')") is False,
              "the session cookie is not readable by script")
        focused = driver.execute_script("return document.activeElement && document.activeElement.id")
        check(focused == "c-knee-osteoarthritis", f"the launch's appContext opens its condition ({focused})")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table.criteria button.datum[data-ref]")) > 0,
              "the EHR patient's criteria show their data")
        check(not console_errors(driver), "SMART patient page: no console errors")
        driver.save_screenshot(os.path.join(SCREEN_DIR, "smart-patient.png"))

        # Registry pages for the signed-in user; writes need the CSRF token.
        driver.get(base + "/app/worklist.html")
        wait(driver, "#worklist table")
        check(not console_errors(driver), "worklist as a signed-in user: no console errors")
        driver.get(base + "/app/outcomes.html")
        wait(driver, "#record:not([hidden])")
        Select(driver.find_element(By.ID, "score-instrument")).select_by_value("nrs")
        driver.execute_script("document.getElementById('score-date').value = '2026-11-01'")
        driver.find_element(By.ID, "score-value").send_keys("5")
        driver.find_element(By.CSS_SELECTOR, "#score-form button").click()
        WebDriverWait(driver, 15).until(lambda d: "recorded" in d.find_element(By.ID, "record-status").text)
        check(driver.find_element(By.ID, "record-status").text == "Score recorded.", "a signed-in user records a score (with CSRF token)")
        session_cookie = f"rp_session={cookie['value']}" if cookie else ""
        registry_db = os.path.join(work, "smart", "data", "registry.sqlite")
        actors = audit_actors(registry_db)
        check(actors == {ehr.fhir + "/Practitioner/practitioner-1"},
              f"a signed-in user's registry write is audited with their fhirUser ({actors})")
        # A client cannot name the audit actor itself.
        status, body = request(base, "GET", "/api/session", headers={"Cookie": session_cookie})
        csrf = json.loads(body).get("csrf_token", "") if status == 200 else ""
        score = {"resourceType": "Observation", "identifier": [{"system": "urn:regenpath:web-app", "value": "forged-actor-1"}],
                 "status": "final", "subject": {"identifier": {"system": "urn:test", "value": "forged-actor-patient"}},
                 "code": {"coding": [{"system": "http://regenpath.org/fhir/CodeSystem/instrument", "code": "nrs"}]},
                 "effectiveDateTime": "2026-11-02", "valueQuantity": {"value": 4}}
        forged = {"resourceType": "Bundle", "type": "batch",
                  "entry": [{"resource": score, "request": {"method": "POST", "url": "Observation"}}]}
        status, body = request(base, "POST", "/api/registry", json.dumps(forged).encode(),
                               {"Content-Type": "application/fhir+json", "Cookie": session_cookie, "X-CSRF-Token": csrf,
                                "Origin": base, "X-Regenpath-Delegated-Actor": "mallory"})
        entry_status = (json.loads(body).get("entry") or [{}])[0].get("response", {}).get("status", "") if status == 200 else ""
        actors = audit_actors(registry_db)
        check(entry_status.startswith("2") and actors == {ehr.fhir + "/Practitioner/practitioner-1"},
              f"a client's own actor header is ignored ({status} {entry_status}, {actors})")
        status, _ = request(base, "POST", "/api/registry", b"{}", {"Content-Type": "application/fhir+json", "Cookie": session_cookie})
        check(status == 403, f"a write with the session cookie but no CSRF token -> 403 ({status})")
        status, _ = request(base, "GET", "/api/registry/due", headers={"Cookie": session_cookie})
        check(status == 200, f"registry data with the session cookie -> 200 ({status})")

        # The patient-view card's smart link opens the app on the right patient and condition.
        card_link_test(driver, work, base, ehr, key, bundle)

        # Standalone launch: the app is opened first and asks the EHR for a patient.
        driver.delete_all_cookies()
        driver.get(base + "/app/launch?iss=" + urllib.parse.quote(ehr.fhir, safe=""))
        wait(driver, "#assessment section.condition", 30)
        check(("authorized", "standalone") in ehr.events, "standalone launch completed")
        with open(log_path) as f:
            log = f.read()
        check(ehr.patient_id not in log and "Pierre" not in log, "no patient id or name in the server's log")
    finally:
        ehr.stop()


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1600", "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def run_axe(driver, name):
    with open(AXE) as f:
        driver.execute_script(f.read())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical', description: String(e), nodes: []}]));")
    bad = [v for v in result if v.get("impact") in ("serious", "critical")]
    for v in bad:
        print(f"      axe {v['impact']}: {v['id']}: {v['description']} ({len(v['nodes'])} nodes: "
              f"{[n.get('target') for n in v['nodes'][:3]]})")
    check(not bad, f"{name}: no serious or critical axe-core violation ({len(result)} minor/moderate)")


def wait(driver, css, seconds=20):
    return WebDriverWait(driver, seconds).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def page_check(driver, base, name, path, ready_css):
    driver.get(base + path)
    wait(driver, ready_css)
    time.sleep(0.2)
    errors = console_errors(driver)
    check(not errors, f"{name}: loads without console errors {errors if errors else ''}")
    run_axe(driver, name)
    driver.save_screenshot(os.path.join(SCREEN_DIR, f"{name}.png"))


def upload(driver, base, path):
    driver.get(base + "/app/")
    wait(driver, "#bundle-file").send_keys(path)
    driver.find_element(By.CSS_SELECTOR, "#now").send_keys("11242026") if False else None
    driver.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "main").get_attribute("data-render-ms")
                                    or d.find_elements(By.CSS_SELECTOR, "#assessment .error"))
    main = driver.find_element(By.ID, "main")
    return {k: main.get_attribute(f"data-{k}-ms") for k in ("render", "assess", "dom")}


def main():
    if not os.path.exists(AXE):
        print(f"axe-core is missing ({AXE}): run scripts/setup-web-test.sh")
        return 1
    os.makedirs(SCREEN_DIR, exist_ok=True)
    work = tempfile.mkdtemp(prefix="regenpath-web-")
    servers = []
    driver = None
    try:
        process, base = start_server(work, demo=False)
        servers.append(process)
        check_headers(base)
        check_api(base)
        driver = make_driver()
        driver.set_script_timeout(60)

        # A patient with options, evidence and medication holds: the hold table for a picked date, one printed page.
        upload(driver, base, os.path.join(SYNTHEA, OPTIONS_PATIENT))
        options = driver.find_elements(By.CSS_SELECTOR, "article.option")
        check(len(options) > 0, f"options shown with their status ({len(options)})")
        check(driver.find_elements(By.CSS_SELECTOR, "article.option .evidence-cols h4.dir-for"),
              "evidence shown side by side (for / against / neutral)")
        date_inputs = driver.find_elements(By.CSS_SELECTOR, ".procedure input[type=date]")
        check(date_inputs, "a hold table where the Assessment gives holds")
        if date_inputs:
            driver.execute_script("arguments[0].value = '2027-01-15';"
                                  "arguments[0].dispatchEvent(new Event('change'))", date_inputs[0])
            caption = date_inputs[0].find_element(By.XPATH, "following-sibling::div//caption").text
            check("2027-01-15" in caption, f"the hold table follows the picked procedure date ({caption})")
        errors = console_errors(driver)
        check(not errors, f"patient (options): no console errors {errors if errors else ''}")
        run_axe(driver, "patient (options)")
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(os.path.join(SCREEN_DIR, "patient.png"))
        pdf = base64.b64decode(driver.print_page())
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        with open(os.path.join(SCREEN_DIR, "patient-print.pdf"), "wb") as f:
            f.write(pdf)
        check(pages == 1, f"the print view fits on one page ({pages} pages)")

        # A record merged into another (Patient.link replaced-by): the summary says so, at the top.
        with open(os.path.join(SOURCE_DIR, "tests", "scenarios", "knee-oa-candidate.json")) as f:
            merged = json.load(f)
        for entry in merged["entry"]:
            if entry["resource"]["resourceType"] == "Patient":
                entry["resource"]["link"] = [{"other": {"reference": "Patient/survivor"}, "type": "replaced-by"}]
                entry["resource"]["active"] = False
        merged_path = os.path.join(work, "merged-patient.json")
        with open(merged_path, "w") as f:
            json.dump(merged, f)
        upload(driver, base, merged_path)
        summary = driver.find_element(By.ID, "summary-h").find_element(By.XPATH, "..").text
        check("Record replaced by" in summary and "Patient/survivor: this record must no longer be used" in summary,
              f"the patient page says the record was replaced ({summary!r})")
        check("Record inactive" in summary and "not in active use" in summary,
              f"the patient page says the record is not in active use ({summary!r})")

        bundles = sorted((os.path.join(SYNTHEA, n) for n in os.listdir(SYNTHEA) if n.endswith(".json")),
                         key=os.path.getsize, reverse=True)
        largest = bundles[0]

        # The patient page: upload, the data behind the criteria, a datum opens its resource.
        times = upload(driver, base, largest)
        check(driver.find_elements(By.CSS_SELECTOR, "#assessment section.condition"),
              "the assessment shows the patient's conditions")
        data_buttons = driver.find_elements(By.CSS_SELECTOR, "table.criteria button.datum[data-ref]")
        check(len(data_buttons) > 0, f"criteria show the data behind them ({len(data_buttons)} data)")
        if data_buttons:
            reference = data_buttons[0].get_attribute("data-ref")
            driver.execute_script("arguments[0].scrollIntoView()", data_buttons[0])
            data_buttons[0].click()
            dialog = wait(driver, "dialog#resource-dialog[open]")
            shown = json.loads(driver.find_element(By.ID, "resource-json").text)
            check(f"{shown.get('resourceType')}/{shown.get('id')}" == reference, f"clicking {reference} shows that resource")
            dialog.find_element(By.CSS_SELECTOR, "button").click()
        errors = console_errors(driver)
        check(not errors, f"patient: no console errors {errors if errors else ''}")
        run_axe(driver, "patient")
        driver.save_screenshot(os.path.join(SCREEN_DIR, "patient-largest.png"))

        # Render time of the largest bundle: three more runs.
        runs = [times]
        for _ in range(3):
            runs.append(upload(driver, base, largest))
        totals = [float(r["render"]) for r in runs]
        print(f"RENDER {os.path.basename(largest)} ({os.path.getsize(largest)} bytes): upload+assess+render "
              f"median {statistics.median(totals):.0f} ms (runs {', '.join(f'{t:.0f}' for t in totals)}); "
              f"server assess round trip {', '.join(r['assess'] for r in runs)} ms; DOM render "
              f"{', '.join(r['dom'] for r in runs)} ms")
        # Printed, not asserted: timings belong to benchmarks (project rule), and they depend on the
        # machine's load (the figure quoted in docs/web-app.md is from a quieter run).
        print(f"RENDER target < 1000 ms {'met' if statistics.median(totals) < 1000 else 'NOT met'} on this run")

        # Outcomes of the uploaded patient: record two scores, the chart gains the points.
        driver.get(base + "/app/outcomes.html")
        wait(driver, "#record:not([hidden])")
        time.sleep(0.3)
        before = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart circle.point"))
        Select(driver.find_element(By.ID, "score-instrument")).select_by_value("nrs")
        for date, value in (("2026-10-01", "7"), ("2026-11-20", "3")):
            driver.execute_script("document.getElementById('score-date').value = arguments[0]", date)
            field = driver.find_element(By.ID, "score-value")
            field.clear()
            field.send_keys(value)
            driver.find_element(By.CSS_SELECTOR, "#score-form button").click()
            WebDriverWait(driver, 15).until(lambda d: "recorded" in d.find_element(By.ID, "record-status").text)
            status = driver.find_element(By.ID, "record-status").text
            check(status == "Score recorded.", f"recording a score: {status}")
        WebDriverWait(driver, 15).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "svg.chart circle.point")) >= before + 2)
        points = driver.find_elements(By.CSS_SELECTOR, "section[data-instrument=nrs] svg.chart circle.point")
        values = sorted(p.get_attribute("data-value") for p in points)
        check("3" in values and "7" in values, f"recorded scores appear on the chart (nrs points {values})")
        actors = audit_actors(os.path.join(work, "empty", "data", "registry.sqlite"))
        check(actors == {"insecure-dev"}, f"demo-mode writes are audited with actor insecure-dev ({actors})")
        errors = console_errors(driver)
        check(not errors, f"outcomes (recording): no console errors {errors if errors else ''}")

        # The other pages, on a server whose registry holds the synthetic demo cohort.
        screen_dir = os.path.join(work, "screen")
        extra = candidate_exports(work)
        subprocess.run([BINARY, "screen", "--now", "2025-06-01", "--jobs", "1", "--output", screen_dir, BULK] + extra,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process, base = start_server(work, demo=True, screening_dir=screen_dir)
        servers.append(process)
        page_check(driver, base, "worklist", "/app/worklist.html", "#worklist table tbody tr")
        screening_test(driver, base, screen_dir)
        worklist_paging_test(driver, base)
        driver.find_element(By.CSS_SELECTOR, "#worklist tbody button").click()
        wait(driver, "svg.chart circle.point")
        check(driver.find_elements(By.CSS_SELECTOR, "svg.chart line.baseline"),
              "a demo patient's outcomes show the baseline line")
        errors = console_errors(driver)
        check(not errors, f"outcomes: loads without console errors {errors if errors else ''}")
        run_axe(driver, "outcomes")
        driver.save_screenshot(os.path.join(SCREEN_DIR, "outcomes.png"))
        page_check(driver, base, "registry", "/app/registry.html", "#report table.responders")
        check(driver.find_elements(By.CSS_SELECTOR, "svg.km path"), "the dashboard draws Kaplan-Meier curves")
        period_test(driver, base, os.path.join(work, "demo", "data", "registry.sqlite"))
        page_check(driver, base, "kb", "/app/kb.html", "#kb details")

        # SMART App Launch 2.0 against the fake EHR.
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        smart_tests(driver, work, servers)

        # The shipped JavaScript stays small.
        import gzip
        total = 0
        for name in os.listdir(os.path.join(SOURCE_DIR, "web", "js")):
            with open(os.path.join(SOURCE_DIR, "web", "js", name), "rb") as f:
                total += len(gzip.compress(f.read(), 9))
        print(f"JS gzipped: {total} bytes")
        check(total < 100 * 1024, "shipped JavaScript under 100 KB gzipped")
    finally:
        if driver is not None:
            driver.quit()
        for process in servers:
            process.send_signal(signal.SIGTERM)
            try:
                check(process.wait(timeout=20) == 0, f"regenpath serve (pid {process.pid}) stopped cleanly")
            except subprocess.TimeoutExpired:
                process.kill()
        if FAILURES:
            for kind in ("empty", "demo", "smart"):
                log = os.path.join(work, kind, "serve.log")
                if os.path.exists(log):
                    print(f"--- {kind} server log\n" + open(log).read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
