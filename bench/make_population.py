#!/usr/bin/env python3
"""Makes a large synthetic FHIR Bulk Data population from the Synthea bundles
in shared/testdata (for bench/screen_bench.sh; generated, never committed).

Each output patient is a re-identified copy of one of the base patients:
new ids for every resource (references rewritten to match), a new name, no
identifiers or contact details, and every date shifted by the same number of
days (0 to 365 into the past). Only the resource types the knowledge base
reads are kept (Claim, ExplanationOfBenefit, Immunization... are dropped),
which keeps 10,000 patients near 2 GB; --all-types keeps every type, as a
Bulk Data export without _type has them (about twice the bytes). Output: <Type>.<nnn>.ndjson files of at
most --chunk-lines lines (or .ndjson.gz with --gzip), like a Bulk Data export.

  /usr/bin/python3 bench/make_population.py --patients 10000 --output /tmp/population-10k
"""
import argparse
import datetime
import glob
import gzip
import json
import os
import random
import re
import sys

KEPT_TYPES = {"Patient", "Condition", "Observation", "MedicationRequest", "MedicationStatement",
              "MedicationAdministration", "Procedure", "AllergyIntolerance", "Encounter", "DiagnosticReport",
              "ImagingStudy", "CarePlan"}
GIVEN = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Robin", "Drew"]
FAMILY = ["Lind", "Moreau", "Okafor", "Santos", "Novak", "Haddad", "Ivanova", "Keller", "Tanaka", "Berg", "Costa"]
DATE = re.compile(r'"(\d{4}-\d{2}-\d{2})')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Template:
    """One base patient's resources as text segments: literal text, dates to
    shift, and ids to renumber, so that a copy is a join of segments."""

    def __init__(self, bundle, all_types=False):
        types_by_url = {}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if "fullUrl" in entry:
                types_by_url[entry["fullUrl"]] = resource["resourceType"]
        self.lines = []  # (type, segments)
        for entry in bundle["entry"]:
            resource = entry["resource"]
            kind = resource["resourceType"]
            if kind not in KEPT_TYPES and not all_types:
                continue
            if kind == "Patient":
                self.patient = resource
                continue
            text = json.dumps(resource, separators=(",", ":"), ensure_ascii=False)
            # Bulk Data references are relative: urn:uuid:X -> Type/X.
            text = re.sub(r'"urn:uuid:([0-9a-f-]{36})"',
                          lambda m: '"%s/%s"' % (types_by_url.get("urn:uuid:" + m.group(1), "Resource"), m.group(1)),
                          text)
            self.lines.append((kind, self._segments(text)))

    @staticmethod
    def _segments(text):
        segments = []
        position = 0
        for match in re.finditer(r'"(\d{4}-\d{2}-\d{2})|' + UUID.pattern, text):
            segments.append(text[position:match.start()])
            if match.group(1):
                segments.append(("date", match.group(1)))
                position = match.start() + 1 + 10
                segments[-2] += '"'
            else:
                segments.append(("id", match.group(0)))
                position = match.end()
        segments.append(text[position:])
        return segments


def shifted(date_text, days, cache):
    key = (date_text, days)
    value = cache.get(key)
    if value is None:
        try:
            value = (datetime.date.fromisoformat(date_text) - datetime.timedelta(days=days)).isoformat()
        except ValueError:
            value = date_text
        cache[key] = value
    return value


def new_id(old, copy):
    return "%08x%s" % (copy, old[8:])


def render(segments, copy, days, cache):
    out = []
    for segment in segments:
        if isinstance(segment, str):
            out.append(segment)
        elif segment[0] == "date":
            out.append(shifted(segment[1], days, cache))
        else:
            out.append(new_id(segment[1], copy))
    return "".join(out)


def patient_copy(template, copy, days, rng, cache):
    patient = json.loads(json.dumps(template.patient))
    patient["id"] = new_id(patient["id"], copy)
    patient["name"] = [{"use": "official", "family": rng.choice(FAMILY), "given": [rng.choice(GIVEN)]}]
    for key in ("identifier", "telecom", "address", "text", "extension", "photo", "contact"):
        patient.pop(key, None)
    text = json.dumps(patient, separators=(",", ":"), ensure_ascii=False)
    return DATE.sub(lambda m: '"' + shifted(m.group(1), days, cache), text)


def medication_by_reference(line, writer):
    """Every other MedicationRequest with a medicationCodeableConcept: the
    concept moved into a Medication (written), named by medicationReference."""
    request = json.loads(line)
    concept = request.get("medicationCodeableConcept")
    writer.medication_requests += 1
    if concept is None or writer.medication_requests % 2:
        return line
    medication_id = "med-" + request["id"]
    writer.write("Medication", json.dumps({"resourceType": "Medication", "id": medication_id, "code": concept},
                                          separators=(",", ":"), ensure_ascii=False))
    del request["medicationCodeableConcept"]
    request["medicationReference"] = {"reference": "Medication/" + medication_id}
    return json.dumps(request, separators=(",", ":"), ensure_ascii=False)


class Writer:
    def __init__(self, directory, chunk_lines, compress):
        self.directory, self.chunk_lines, self.compress = directory, chunk_lines, compress
        self.files = {}  # type -> [handle, lines, chunk]
        self.bytes = 0
        self.medication_requests = 0

    def write(self, kind, line):
        state = self.files.get(kind)
        if state is None or state[1] >= self.chunk_lines:
            chunk = 0 if state is None else state[2] + 1
            if state is not None:
                state[0].close()
            name = os.path.join(self.directory, "%s.%03d.ndjson" % (kind, chunk))
            handle = gzip.open(name + ".gz", "wt", encoding="utf-8", compresslevel=1) if self.compress else \
                open(name, "w", encoding="utf-8")
            state = self.files[kind] = [handle, 0, chunk]
        state[0].write(line)
        state[0].write("\n")
        state[1] += 1
        self.bytes += len(line) + 1

    def close(self):
        for state in self.files.values():
            state[0].close()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--bundles", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "../../shared/testdata/synthea/r4-bundles-pain-subset"))
    parser.add_argument("--chunk-lines", type=int, default=500000)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--all-types", action="store_true", help="keep every resource type of the bundles")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--medication-references", action="store_true",
                        help="every other MedicationRequest names its drug through medicationReference to a "
                             "Medication of its own (in Medication.000.ndjson), as many EHR exports do")
    args = parser.parse_args(argv)

    templates = []
    for path in sorted(glob.glob(os.path.join(args.bundles, "*.json"))):
        with open(path, encoding="utf-8") as handle:
            bundle = json.load(handle)
        if bundle.get("resourceType") == "Bundle":
            templates.append(Template(bundle, args.all_types))
    if not templates:
        sys.exit("make_population: no Synthea bundle in %s" % args.bundles)
    os.makedirs(args.output, exist_ok=True)
    rng = random.Random(args.seed)
    cache = {}
    writer = Writer(args.output, args.chunk_lines, args.gzip)
    for copy in range(args.patients):
        template = templates[copy % len(templates)]
        days = rng.randrange(0, 366)
        writer.write("Patient", patient_copy(template, copy, days, rng, cache))
        for kind, segments in template.lines:
            line = render(segments, copy, days, cache)
            if args.medication_references and kind == "MedicationRequest":
                line = medication_by_reference(line, writer)
            writer.write(kind, line)
        if len(cache) > 2000000:
            cache.clear()
    writer.close()
    print("make_population: %d patients from %d base patients, %.1f MB in %s"
          % (args.patients, len(templates), writer.bytes / 1e6, args.output), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
