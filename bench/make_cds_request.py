#!/usr/bin/env python3
"""Builds a CDS Hooks patient-view request body from a Synthea bundle.

Every prefetch key of the service (read from its discovery document) is
answered the way an EHR would: the Patient for the read, and for each search
a searchset Bundle of the patient's resources of that type (Observation
searches keep only the codes the template asks for).

usage: make_cds_request.py DISCOVERY.json BUNDLE.json [SERVICE_ID] > request.json
"""
import json
import sys
import uuid


def main():
    discovery = json.load(open(sys.argv[1]))
    bundle = json.load(open(sys.argv[2]))
    service_id = sys.argv[3] if len(sys.argv) > 3 else "regenpath-patient-view"
    service = next(s for s in discovery["services"] if s["id"] == service_id)
    resources = [entry["resource"] for entry in bundle.get("entry", []) if "resource" in entry]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch = {}
    for key, template in service.get("prefetch", {}).items():
        path, _, query = template.partition("?")
        resource_type = path.split("/")[0]
        if resource_type == "Patient" and "/" in path:
            prefetch[key] = patient
            continue
        codes = None
        for parameter in query.split("&"):
            name, _, value = parameter.partition("=")
            if name == "code":
                codes = set(value.split(","))
        matches = []
        for resource in resources:
            if resource["resourceType"] != resource_type:
                continue
            if codes is not None:
                codings = resource.get("code", {}).get("coding", [])
                if not any("%s|%s" % (c.get("system"), c.get("code")) in codes for c in codings):
                    continue
            matches.append({"fullUrl": "urn:uuid:" + resource.get("id", str(uuid.uuid4())),
                            "resource": resource, "search": {"mode": "match"}})
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": matches}
    request = {
        "hook": service["hook"],
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient["id"]},
        "prefetch": prefetch,
    }
    json.dump(request, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
