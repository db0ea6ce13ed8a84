#!/usr/bin/env python3
"""Checks, on a generated population, that every patient's line of
`regenpath screen` is what `regenpath assess` says of a file holding only that
patient's resources (the issue's equality, at population scale; the unit test
tests/screen checks the 13-patient export).

  bench/check_assess_equality.py [--jobs 2] [--limit N] POPULATION_DIR SCREEN_OUTPUT_DIR

The patient of each line is found here independently of src/screen (subject /
patient / Patient.id, "Patient/<id>" references), files in path order, lines
in file order, with the Medications the patient's lines reference
("Medication/<id>"), as `screen` documents. Exit 1 on any difference.
"""
import argparse
import concurrent.futures
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile

NOW = "2025-06-01"


def project(reference, assessment):
    s = lambda item, key: item.get(key) if isinstance(item.get(key), str) else ""
    deceased = assessment.get("patient", {}).get("deceased")
    line = {
        "patient": reference,
        "deceased": deceased if isinstance(deceased, bool) else None,
    }
    # Only for a record merged into another (Patient.link replaced-by).
    if isinstance(assessment.get("patient", {}).get("replaced_by"), str):
        line["replaced_by"] = assessment["patient"]["replaced_by"]
    # Only for a record not in active use (Patient.active false).
    if assessment.get("patient", {}).get("active") is False:
        line["active"] = False
    line.update({
        "stage": s(assessment, "stage"),
        # A regenerative candidate: the stage offers regenerative options (the
        # knowledge base's stage table, as screen/patient_line.h says).
        "candidate": assessment.get("stage_offers_regenerative") is True,
        "conditions": [{"id": s(c, "id"), "stage": s(c, "stage")} for c in assessment["conditions"]],
        "regenerative_options": [
            {"id": s(r, "id"), "condition": s(r, "condition"), "therapy": s(r, "therapy"), "status": s(r, "status")}
            for r in assessment["recommendations"] if r.get("category") == "regenerative"],
        "next_steps": [{"kind": s(n, "kind"), "condition": s(n, "condition"), "display": s(n, "display")}
                       for n in assessment["next_steps"]],
        "missing_data": [s(m, "id") for m in assessment["missing_data"]],
        "red_flags": [s(r, "id") for r in assessment["red_flags"]],
        "issues": len(assessment.get("issues", [])),
    })
    return line


def patient_of(resource):
    if resource.get("resourceType") == "Patient":
        return resource.get("id")
    for key in ("subject", "patient", "beneficiary"):
        value = resource.get(key)
        if isinstance(value, dict) and str(value.get("reference", "")).startswith("Patient/"):
            return value["reference"][len("Patient/"):]
    return None


def strings(value):
    """Every string value under a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--regenpath", default=os.path.join(os.path.dirname(__file__), "../build/regenpath"))
    parser.add_argument("population")
    parser.add_argument("screen_output")
    args = parser.parse_args(argv)

    records = {}      # patient id -> [(path index, line index, text)]
    medications = {}  # Medication id -> [(path index, line index, text)]
    paths = sorted(glob.glob(os.path.join(args.population, "*.ndjson")) +
                   glob.glob(os.path.join(args.population, "*.ndjson.gz")))
    if not paths:
        print("check_assess_equality: no *.ndjson or *.ndjson.gz in %s" % args.population, file=sys.stderr)
        return 1
    for path_index, path in enumerate(paths):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line_index, line in enumerate(handle):
                if not line.strip():
                    continue
                resource = json.loads(line)
                entry = (path_index, line_index, line.rstrip("\n"))
                if resource.get("resourceType") == "Medication" and isinstance(resource.get("id"), str):
                    medications.setdefault(resource["id"], []).append(entry)
                    continue
                patient = patient_of(resource)
                if patient is not None:
                    records.setdefault(patient, []).append(entry)
    # A patient's own file: their lines and the Medications they reference
    # ("Medication/<id>" string values, as the record's parser resolves them;
    # `screen` documents the same rule), in input order.
    for patient, entries in records.items():
        referenced = set()
        for entry in entries:
            for value in strings(json.loads(entry[2])):
                if value.startswith("Medication/"):
                    referenced.add(value[len("Medication/"):].split("/")[0])
        extra = [m for medication in referenced for m in medications.get(medication, [])]
        records[patient] = [text for _, _, text in sorted(entries + extra)]
    screened = {}
    with open(os.path.join(args.screen_output, "patients.ndjson"), encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            screened[item["patient"]] = item
    ids = sorted(records)
    if args.limit:
        ids = ids[:args.limit]
    missing = [i for i in ids if "Patient/" + i not in screened]
    temp = tempfile.mkdtemp(prefix="regenpath-equality-")

    def check(patient_id):
        path = os.path.join(temp, patient_id + ".ndjson")
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(records[patient_id]) + "\n")
        result = subprocess.run([args.regenpath, "assess", "--now", NOW, "--format", "json", path],
                                capture_output=True, text=True)
        os.remove(path)
        if result.returncode != 0:
            return patient_id, "assess exit %d: %s" % (result.returncode, result.stderr.strip())
        expected = project("Patient/" + patient_id, json.loads(result.stdout))
        actual = screened.get("Patient/" + patient_id)
        if actual == expected:
            return patient_id, None
        keys = sorted(k for k in set(expected) | set(actual or {}) if (actual or {}).get(k) != expected.get(k))
        return patient_id, "differs in %s" % ", ".join(keys)

    differences = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for patient_id, problem in pool.map(check, ids):
            if problem:
                differences += 1
                print("patient #%d: %s" % (ids.index(patient_id), problem), file=sys.stderr)
    os.rmdir(temp)
    print("check_assess_equality: %d patients compared, %d differ, %d missing from the screen output; "
          "%d screened in all" % (len(ids), differences, len(missing), len(screened)))
    return 1 if differences or missing or not ids or (not args.limit and len(screened) != len(records)) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
