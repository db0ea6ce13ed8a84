"""`regenpath screen` draws a progress bar when stderr is a terminal (here a
pseudo-terminal), and still ends with its final line; the output is the same.

Run by ctest with REGENPATH_BINARY and REGENPATH_SHARED_DIR set.
"""
import os
import pty
import subprocess
import tempfile
import unittest

BINARY = os.environ["REGENPATH_BINARY"]
BULK = os.path.join(os.environ["REGENPATH_SHARED_DIR"], "testdata/synthea/bulk-ndjson-10-patients")


class ProgressTest(unittest.TestCase):
    def test_bar_on_a_terminal_only(self):
        with tempfile.TemporaryDirectory(prefix="regenpath-progress-") as temp:
            master, slave = pty.openpty()
            process = subprocess.Popen([BINARY, "screen", "--now", "2025-06-01", "--jobs", "1", "--output",
                                        os.path.join(temp, "tty"), BULK],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
            os.close(slave)
            chunks = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            self.assertEqual(process.wait(timeout=60), 0)
            os.close(master)
            text = b"".join(chunks).decode("utf-8", "replace")
            self.assertIn("\r", text)
            self.assertTrue("reading [" in text or "assessing [" in text, text)
            self.assertIn("regenpath screen: 13 patients", text)
            plain = subprocess.run([BINARY, "screen", "--now", "2025-06-01", "--output", os.path.join(temp, "plain"),
                                    BULK], capture_output=True, text=True)
            self.assertEqual(plain.returncode, 0)
            self.assertNotIn("\r", plain.stderr)
            self.assertEqual(len(plain.stderr.splitlines()), 1)
            with open(os.path.join(temp, "tty", "patients.ndjson"), "rb") as a, \
                    open(os.path.join(temp, "plain", "patients.ndjson"), "rb") as b:
                self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
