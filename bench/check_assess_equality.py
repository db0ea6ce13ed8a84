#!/usr/bin/env python3
"""Checks, on a generated population, that every patient's line of
`regenpath screen` is what `regenpath assess` says of a file holding only that
patient's resources (the issue's equality, at population scale; the unit test
tests/screen checks the 13-patient export).

  bench/check_assess_equality.py [--jobs 2] [--limit N] POPULATION_DIR SCREEN_OUTPUT_DIR

The patient of each line is found here independently of src/screen (subject /
patient / Patient.id; a reference names a patient when it is "Patient/<id>",
relative, absolute or with "/_history/<v>", or "urn:uuid:<id>", as
docs/screening.md says), files in path order, lines
in file order, with the Medications the patient's lines reference
("Medication/<id>"), as `screen` documents. A line Python cannot read as JSON
(invalid UTF-8, a raw control character, nesting past Python's stack) is the
patient's when a plain "subject"/"patient"/"beneficiary" reference naming
them is in it, and a Medication when it starts {"resourceType":"Medication",
"id":...}, as `screen` routes such lines as far as a look at their first
fields tells; a byte-order mark at the
start of a file is not part of its first line. Exit 1 on any difference.
"""
import argparse
import concurrent.futures
import glob
import gzip
import json
import os
import subprocess
import sys
import re
import tempfile



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
        "option_open": assessment.get("regenerative_option_open") is True,
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


def patient_of_reference(reference):
    """The patient id a reference names, or None ("Group/1", "Patient/")."""
    if reference.startswith("urn:uuid:"):
        return reference[len("urn:uuid:"):] or None
    reference = reference.split("/_history/", 1)[0]
    kind, _, patient = reference.rpartition("/")
    if patient and (kind == "Patient" or kind.endswith("/Patient")):
        return patient
    return None


def patient_of(resource):
    if resource.get("resourceType") == "Patient":
        return resource.get("id")
    for key in ("subject", "patient", "beneficiary"):
        value = resource.get(key)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return patient_of_reference(value["reference"])
    return None


RAW_PATIENT = re.compile(rb'"(?:subject|patient|beneficiary)"\s*:\s*\{\s*"reference"\s*:\s*"([^"\\]+)"')
RAW_MEDICATION = re.compile(rb'^\s*\{\s*"resourceType"\s*:\s*"Medication"\s*,\s*"id"\s*:\s*"([^"\\]+)"')


def read_line(raw):
    """The resource of a line, or None with the patient a raw look finds."""
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested past Python's stack
        match = RAW_PATIENT.search(raw)
        return None, patient_of_reference(match.group(1).decode("utf-8", "replace")) if match else None


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
        with opener(path, "rb") as handle:
            for line_index, line in enumerate(handle):
                if line_index == 0 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                if not line.strip():
                    continue
                resource, patient = read_line(line)
                entry = (path_index, line_index, line.rstrip(b"\n"))
                if not isinstance(resource, dict):
                    if patient is not None:
                        records.setdefault(patient, []).append(entry)
                    medication = RAW_MEDICATION.match(line)
                    if medication:  # a Medication Python cannot read (nested past its stack)
                        medications.setdefault(medication.group(1).decode("utf-8", "replace"), []).append(entry)
                    continue
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
            resource, _ = read_line(entry[2])
            if resource is None:  # (a line Python cannot read: its strings as they are written)
                resource = [value.decode("utf-8", "replace") for value in re.findall(rb'"([^"\\]*)"', entry[2])]
            for value in strings(resource):
                if value.startswith("Medication/"):
                    referenced.add(value[len("Medication/"):].split("/")[0])
        extra = [m for medication in referenced for m in medications.get(medication, [])]
        records[patient] = [text for _, _, text in sorted(entries + extra)]
    # Assessed as of the screening's own instant (run.json's now).
    with open(os.path.join(args.screen_output, "run.json"), encoding="utf-8") as handle:
        now = json.load(handle)["now"]
    screened = {}
    with open(os.path.join(args.screen_output, "patients.ndjson"), encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            screened[item["patient"]] = item
    ids = sorted(records)
    if args.limit:
        ids = ids[:args.limit]
    position = {patient_id: index for index, patient_id in enumerate(ids)}
    missing = [i for i in ids if "Patient/" + i not in screened]
    temp = tempfile.mkdtemp(prefix="regenpath-equality-")

    def check(patient_id):
        # (Named by position: an id may hold what a file name may not.)
        path = os.path.join(temp, "patient-%d.ndjson" % position[patient_id])
        with open(path, "wb") as out:
            out.write(b"\n".join(records[patient_id]) + b"\n")
        result = subprocess.run([args.regenpath, "assess", "--now", now, "--format", "json", path],
                                capture_output=True, text=True)
        os.remove(path)
        actual = screened.get("Patient/" + patient_id)
        if result.returncode != 0:
            # Both refuse the record (no line of it could be read; two
            # different copies of its Patient): the screen line says why.
            if result.returncode == 3 and isinstance((actual or {}).get("error"), str):
                return patient_id, None
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
                print("patient #%d: %s" % (position[patient_id], problem), file=sys.stderr)
    os.rmdir(temp)
    print("check_assess_equality: %d patients compared, %d differ, %d missing from the screen output; "
          "%d screened in all" % (len(ids), differences, len(missing), len(screened)))
    return 1 if differences or missing or not ids or (not args.limit and len(screened) != len(records)) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
