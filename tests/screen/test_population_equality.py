#!/usr/bin/env python3
"""Every patient of a generated population, screened, equals `regenpath assess`
on that patient's own file: bench/make_population.py makes 60 patients (gzip,
every resource type of the Synthea bundles, so lines outside the patient
compartment too, and every other MedicationRequest naming its drug through a
Medication of its own, which screen must bring into the patient's record), `regenpath screen` runs on 2 jobs in a 16 MB budget (it
spills), and bench/check_assess_equality.py compares each patient's line with
assess's. The population of the issue's 1k check, at a size a test can run."""
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = os.environ.get("REGENPATH_BINARY", "build/regenpath")
SOURCE = os.environ.get("REGENPATH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


class PopulationEqualityTest(unittest.TestCase):
    def test_every_patient_of_a_generated_population_is_screened_as_assess_says(self):
        with tempfile.TemporaryDirectory(prefix="regenpath-population-") as work:
            population = os.path.join(work, "population")
            subprocess.run([sys.executable, os.path.join(SOURCE, "bench/make_population.py"), "--patients", "60",
                            "--gzip", "--all-types", "--medication-references", "--seed", "7", "--output",
                            population],
                           check=True, capture_output=True)
            self.assertTrue(any(name.endswith(".ndjson.gz") for name in os.listdir(population)))
            self.assertIn("Medication.000.ndjson.gz", os.listdir(population))
            output = os.path.join(work, "screen")
            run = subprocess.run([BINARY, "screen", "--now", "2025-06-01", "--jobs", "2", "--memory", "16M",
                                  "--output", output, population], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stderr)
            check = subprocess.run([sys.executable, os.path.join(SOURCE, "bench/check_assess_equality.py"),
                                    "--regenpath", BINARY, population, output], capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.assertIn("60 patients compared, 0 differ, 0 missing from the screen output; 60 screened in all",
                          check.stdout)


if __name__ == "__main__":
    unittest.main()
