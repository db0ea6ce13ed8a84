"""`regenpath screen --fhir-server` against a fake Bulk Data server
(tests/bulk/fake_bulk_server.py), its failure modes included: every run that
succeeds must give the same patients, summary and worklists as `regenpath
screen` on the files the server serves.

Run by ctest with REGENPATH_BINARY and REGENPATH_SHARED_DIR set.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_bulk_server import FakeBulkServer  # noqa: E402

BINARY = os.environ["REGENPATH_BINARY"]
BULK = os.path.join(os.environ["REGENPATH_SHARED_DIR"], "testdata/synthea/bulk-ndjson-10-patients")
NOW = "2025-06-01"
# The server sends only the types the knowledge base reads: the patients are the same, the line counts of
# summary.* and run.json are not.
SAME_FILES = ["patients.ndjson", "patients.csv", "MeasureReport.json", "Group.json", "issues.ndjson"]


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


class FhirServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory(prefix="regenpath-bulk-test-")
        cls.reference = os.path.join(cls.temp.name, "reference")
        subprocess.run([BINARY, "screen", "--now", NOW, "--output", cls.reference, BULK], check=True,
                       capture_output=True)
        cls.token = os.path.join(cls.temp.name, "token")
        with open(cls.token, "w") as handle:
            handle.write("secret\n")

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def screen(self, server, output, *extra, url=None):
        return subprocess.run([BINARY, "screen", "--now", NOW, "--fhir-server", url or server.base,
                               "--bearer-token-file", self.token, "--output", output, *extra], capture_output=True,
                              text=True, timeout=120)

    def screen_once(self, output, directory=BULK, path=None, **server_options):
        """A fake server of `directory` (FakeBulkServer's options), one
        screening against it (at base + `path` when given), the server
        stopped: (server, result)."""
        server = FakeBulkServer(directory, **server_options).start()
        try:
            return server, self.screen(server, output, url=server.base + path if path else None)
        finally:
            server.stop()

    def assert_same_as_reference(self, output):
        for name in SAME_FILES:
            self.assertEqual(read(os.path.join(self.reference, name)), read(os.path.join(output, name)), name)

    def run_with(self, faults, name):
        output = os.path.join(self.temp.name, name)
        server, result = self.screen_once(output, faults=faults)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_same_as_reference(output)
        return server, result

    def test_export_download_and_screen(self):
        server, result = self.run_with({}, "plain")
        kickoffs = [entry for entry in server.log if entry[1] == "/fhir/$export"]
        self.assertEqual(len(kickoffs), 1)
        # _type: the types the knowledge base reads.
        self.assertIn("_type=", kickoffs[0][2])
        self.assertIn("Condition", kickoffs[0][2])
        self.assertNotIn("Organization", kickoffs[0][2])
        self.assertIn("bulk export: 6 files (6 downloaded, 0 already complete)", result.stderr)
        self.assertNotIn("secret", result.stderr)

    def test_429_202_and_5xx_are_waited_out(self):
        server, result = self.run_with({"kickoff_429": 2, "status_202": 3, "status_500": 2}, "retries")
        self.assertEqual(len([e for e in server.log if e[1] == "/fhir/$export"]), 3)
        self.assertIn("4 retries", result.stderr)

    def test_truncated_downloads_are_fetched_again(self):
        server, _ = self.run_with({"truncate": 2}, "truncated")
        file_requests = [e for e in server.log if e[1].startswith("/fhir/files/")]
        self.assertEqual(len(file_requests), 6 + 2)

    def test_expired_file_urls_start_the_export_again(self):
        server, _ = self.run_with({"expire": True}, "expired")
        self.assertEqual(server.exports, 2)

    def test_rerun_resumes_with_the_files_already_complete(self):
        output = os.path.join(self.temp.name, "resumed")
        broken, failed = self.screen_once(output, faults={"fail_file": "Procedure.000.ndjson"})
        self.assertEqual(failed.returncode, 3, failed.stderr)
        self.assertIn("Procedure.000.ndjson", failed.stderr)
        self.assertFalse(os.path.exists(os.path.join(output, "patients.ndjson")))
        # The server is back (same address): the saved manifest's file URLs still work.
        healthy, resumed = self.screen_once(output, port=broken.port)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        # No new kick-off; only the files not yet complete are fetched.
        self.assertEqual([e for e in healthy.log if e[1] == "/fhir/$export"], [])
        fetched = [e[1].rsplit("/", 1)[1] for e in healthy.log if e[1].startswith("/fhir/files/")]
        self.assertEqual(fetched, ["Procedure.000.ndjson"])
        self.assert_same_as_reference(output)

    def test_next_run_starts_a_new_export(self):
        # Night 1 has no Conditions yet, night 2 has them: night 2 must screen night 2's data.
        night1 = os.path.join(self.temp.name, "night1-data")
        os.makedirs(night1)
        for name in os.listdir(BULK):
            if name != "Condition.000.ndjson":
                shutil.copyfile(os.path.join(BULK, name), os.path.join(night1, name))
        output = os.path.join(self.temp.name, "nightly")
        download = os.path.join(output, "bulk-download")
        first, result = self.screen_once(output, night1)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("bulk export: 5 files (5 downloaded", result.stderr)
        self.assertNotEqual(read(os.path.join(output, "patients.ndjson")),
                            read(os.path.join(self.reference, "patients.ndjson")))
        self.assertTrue(os.path.exists(os.path.join(download, "bulk-export.screened.json")))
        self.assertFalse(os.path.exists(os.path.join(download, "bulk-export.json")))
        second, result = self.screen_once(output, port=first.port)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(second.exports, 1)
        self.assertIn("bulk export: 6 files (6 downloaded, 0 already complete)", result.stderr)
        self.assertNotIn("not resuming", result.stderr)  # nothing unfinished was passed over
        self.assert_same_as_reference(output)

    def test_an_unfinished_export_of_another_request_is_not_resumed(self):
        output = os.path.join(self.temp.name, "changed-request")
        broken, failed = self.screen_once(output, faults={"fail_file": "Procedure.000.ndjson"})
        self.assertEqual(failed.returncode, 3, failed.stderr)
        with open(os.path.join(output, "bulk-download", "bulk-export.json")) as handle:
            state = json.load(handle)
        self.assertEqual(urllib.parse.urlsplit(state["request"]).path, "/fhir/$export")
        # Rerun against a Group of the same server: a new export, said in one line.
        healthy, result = self.screen_once(output, path="/Group/pain-clinic", port=broken.port)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(healthy.levels, {1: "Group/pain-clinic"})
        notes = [line for line in result.stderr.splitlines() if "not resuming" in line]
        self.assertEqual(notes, ["regenpath screen: bulk export: not resuming the unfinished export in %s: it was "
                                 "requested with another server URL, level or _type; starting a new export"
                                 % os.path.join(output, "bulk-download")])
        self.assertIn("6 files (6 downloaded, 0 already complete)", result.stderr)
        self.assertNotIn("secret", result.stderr)
        self.assert_same_as_reference(output)

    def test_patient_and_group_level_kickoff(self):
        system, _ = self.run_with({}, "level-system")
        system_query = urllib.parse.parse_qs([e for e in system.log if e[1] == "/fhir/$export"][0][2])
        for name, path, level in (("group", "/Group/pain-clinic", "Group/pain-clinic"),
                                  ("patient", "/Patient/", "Patient")):
            output = os.path.join(self.temp.name, "level-" + name)
            server, result = self.screen_once(output, path=path)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(server.levels, {1: level})
            kickoffs = [e for e in server.log if e[1].endswith("/$export")]
            self.assertEqual([e[1] for e in kickoffs], ["/fhir/%s/$export" % level])
            query = urllib.parse.parse_qs(kickoffs[0][2])
            self.assertEqual(query["_outputFormat"], ["application/fhir+ndjson"])
            # The same _type as at system level: the types the knowledge base reads.
            self.assertEqual(query["_type"], system_query["_type"])
            self.assertEqual(server.types[1], set(system_query["_type"][0].split(",")))
            self.assertIn("Patient", server.types[1])
            self.assertIn("Condition", server.types[1])
            self.assert_same_as_reference(output)

    def test_unknown_group_fails_clearly(self):
        _, result = self.screen_once(os.path.join(self.temp.name, "no-group"), path="/Group/other")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("kick-off: HTTP 404: no such Group", result.stderr)

    def test_download_faults_are_retried(self):
        # The first file: 429 (Retry-After: 1), then 503, then a reset after half its body, then whole.
        faults = {"download_429": 1, "download_503": 1, "download_reset": 1}
        output = os.path.join(self.temp.name, "download-faults")
        server, result = self.screen_once(output, faults=faults, retry_after="1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server.faults, {"download_429": 0, "download_503": 0, "download_reset": 0})
        self.assertIn("bulk export: 6 files (6 downloaded, 0 already complete), 3 retries", result.stderr)
        downloads = [index for index, entry in enumerate(server.log) if entry[1].startswith("/fhir/files/")]
        self.assertEqual(len(downloads), 6 + 3)
        first = [index for index in downloads if server.log[index][1] == server.log[downloads[0]][1]]
        self.assertEqual(first, downloads[:4])
        # Retry-After: 1 was waited (the backoff alone is 0.5 s).
        self.assertGreaterEqual(server.log_times[first[1]] - server.log_times[first[0]], 0.95)
        # Every file whole, byte for byte the server's.
        download = os.path.join(output, "bulk-download")
        names = sorted(name for name in os.listdir(download) if name.endswith(".ndjson"))
        self.assertEqual(names, sorted(name for name in os.listdir(BULK) if name.split(".")[0] in server.types[1]))
        for name in names:
            self.assertEqual(read(os.path.join(download, name)), read(os.path.join(BULK, name)), name)
        self.assertEqual([name for name in os.listdir(download) if name.endswith(".part")], [])
        self.assert_same_as_reference(output)

    def test_wrong_token_fails_clearly(self):
        _, result = self.screen_once(os.path.join(self.temp.name, "unauthorized"), token="other")
        self.assertEqual(result.returncode, 3)
        self.assertIn("kick-off: HTTP 401: no or wrong bearer token", result.stderr)


def private_key_pem(kind):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = rsa.generate_private_key(65537, 2048) if kind == "RSA" else ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class SmartBackendServicesTest(unittest.TestCase):
    """--smart-client-id/--smart-key-file/--smart-key-id: a JWT client assertion, checked by the fake
    server's token endpoint (signature, iss/sub, aud, exp, jti, kid)."""

    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory(prefix="regenpath-smart-test-")
        cls.reference = os.path.join(cls.temp.name, "reference")
        subprocess.run([BINARY, "screen", "--now", NOW, "--output", cls.reference, BULK], check=True,
                       capture_output=True)
        cls.keys = {}
        for kind in ("RSA", "EC"):
            private, public = private_key_pem(kind)
            path = os.path.join(cls.temp.name, kind + ".pem")
            with open(path, "w") as handle:
                handle.write(private)
            cls.keys[kind] = (path, public)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def serve(self, kind, faults=None, expires_in=300):
        smart = {"client_id": "regenpath-screen", "kid": "key-1", "public_key_pem": self.keys[kind][1],
                 "expires_in": expires_in}
        return FakeBulkServer(BULK, token=None, faults=faults, smart=smart).start()

    def screen(self, server, name, key, *extra, url=None):
        output = os.path.join(self.temp.name, name)
        result = subprocess.run([BINARY, "screen", "--now", NOW, "--fhir-server", url or server.base,
                                 "--smart-client-id", "regenpath-screen", "--smart-key-file", key,
                                 "--smart-key-id", "key-1", "--output", output, *extra],
                                capture_output=True, text=True, timeout=120)
        return output, result

    def assert_same_as_reference(self, output):
        for name in SAME_FILES:
            self.assertEqual(read(os.path.join(self.reference, name)), read(os.path.join(output, name)), name)

    def test_rs384_with_discovery_reuses_one_token(self):
        server = self.serve("RSA")
        try:
            output, result = self.screen(server, "rs384", self.keys["RSA"][0])
        finally:
            server.stop()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_same_as_reference(output)
        self.assertEqual(server.tokens_issued, 1)  # one token for the kick-off, polls and 6 downloads
        self.assertIn(("GET", "/fhir/.well-known/smart-configuration", ""), server.log)
        self.assertIn("SMART: 1 access tokens, 0 after a 401", result.stderr)

    def test_discovery_from_group_and_patient_export_urls(self):
        # The configuration is the FHIR base's, whatever the level (and a trailing '/').
        for name, path in (("group", "/Group/pain-clinic"), ("patient", "/Patient"), ("patient-slash", "/Patient/"),
                           ("group-slash", "/Group/pain-clinic/")):
            server = self.serve("RSA")
            try:
                output, result = self.screen(server, "discovery-" + name, self.keys["RSA"][0],
                                             url=server.base + path)
            finally:
                server.stop()
            self.assertEqual(result.returncode, 0, name + ": " + result.stderr)
            discovery = [e for e in server.log if e[1].endswith("/.well-known/smart-configuration")]
            self.assertEqual(discovery, [("GET", "/fhir/.well-known/smart-configuration", "")], name)
            self.assertEqual(server.tokens_issued, 1, name)
            self.assert_same_as_reference(output)

    def test_es384_expired_token_is_refreshed_on_401(self):
        server = self.serve("EC", faults={"revoke_tokens": 1})
        try:
            output, result = self.screen(server, "es384", self.keys["EC"][0], "--smart-token-endpoint",
                                         server.token_url)
        finally:
            server.stop()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_same_as_reference(output)
        self.assertEqual(server.tokens_issued, 2)
        self.assertNotIn(("GET", "/fhir/.well-known/smart-configuration", ""), server.log)
        self.assertIn("SMART: 2 access tokens, 1 after a 401", result.stderr)

    def test_a_key_the_server_does_not_know_is_refused(self):
        other, _ = private_key_pem("RSA")
        path = os.path.join(self.temp.name, "other.pem")
        with open(path, "w") as handle:
            handle.write(other)
        server = self.serve("RSA")
        try:
            output, result = self.screen(server, "badkey", path)
        finally:
            server.stop()
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("SMART token request: HTTP 401: invalid_client (bad signature)", result.stderr)
        self.assertEqual([e for e in server.log if e[1] == "/fhir/$export"], [])
        self.assertNotIn("PRIVATE", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(output, "patients.ndjson")))

    def test_not_a_key_and_missing_options_fail_before_any_request(self):
        path = os.path.join(self.temp.name, "not-a-key.pem")
        with open(path, "w") as handle:
            handle.write("hello\n")
        server = self.serve("RSA")
        try:
            _, result = self.screen(server, "notakey", path)
            incomplete = subprocess.run([BINARY, "screen", "--fhir-server", server.base, "--smart-client-id", "x",
                                         "--output", os.path.join(self.temp.name, "incomplete")],
                                        capture_output=True, text=True, timeout=60)
        finally:
            server.stop()
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("not-a-key.pem: the SMART key is not a PEM private key", result.stderr)
        self.assertEqual(incomplete.returncode, 2, incomplete.stderr)
        self.assertIn("--smart-key-file", incomplete.stderr)
        self.assertEqual(server.log, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
