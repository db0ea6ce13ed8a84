#!/usr/bin/env python3
"""Prints the Markdown table of every fact marked U (unverified) in knowledge/*.yaml.

README.md's "Unverified facts" section is this script's output; rerun it after a change:
    python3 knowledge/list-unverified.py
"""
import glob
import os
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def rows():
    for path in sorted(glob.glob(os.path.join(HERE, "*.yaml"))):
        name = os.path.basename(path)
        data = yaml.safe_load(open(path, encoding="utf-8")) or {}
        for item in data.get("parameters", []):
            if item["confidence"] == "U":
                yield name, "parameter", item["id"], f"{item['value']} {item.get('unit', '')}".strip() + " — " + item.get("note", "")
        for vs in data.get("valuesets", []):
            codes = [f"{c['system']} {c['code']}{'*' if c.get('match') == 'prefix' else ''}"
                     for c in vs.get("concepts", []) if c["confidence"] == "U"]
            if codes:
                yield name, "codes", vs["id"], ", ".join(codes)
            if vs["confidence"] == "U" and vs.get("text"):
                yield name, "names", vs["id"], ", ".join(f"'{t}'" for t in vs["text"])
        for item in data.get("red_flags", []) + data.get("contraindications", []):
            if item["confidence"] == "U":
                yield name, "red flag / contraindication", item["id"], item.get("note", item["display"])
        for item in data.get("instruments", []):
            if item["confidence"] == "U":
                yield name, "instrument", item["id"], item.get("note", "")
        for hold in data.get("medication_holds", []):
            if hold["confidence"] == "U":
                yield name, "hold", hold["medication"], hold.get("note", "")
        for option in data.get("options", []):
            if option.get("confidence") == "U":
                yield name, "option", option["id"], option.get("status_rationale", option["display"])
            for evidence in option.get("evidence", []):
                if evidence["confidence"] == "U":
                    yield name, "evidence", option["id"], f"{evidence['source']}: {evidence['statement']}"
            procedure = option.get("procedure") or {}
            protocol = procedure.get("protocol") or {}
            if protocol.get("confidence") == "U":
                yield name, "protocol", option["id"], protocol["text"]
            if procedure.get("bleeding_risk_confidence") == "U":
                yield name, "bleeding risk", option["id"], procedure.get("bleeding_risk_note", "")
            cost = option.get("cost") or {}
            if cost.get("confidence") == "U":
                yield name, "cost", option["id"], f"${cost.get('usd_low')}–{cost.get('usd_high')} per {cost.get('per')}"


def main():
    print("| file | kind | id | unverified fact |")
    print("|---|---|---|---|")
    for name, kind, ident, text in rows():
        text = " ".join(str(text).split()).replace("|", "\\|")
        print(f"| {name} | {kind} | `{ident}` | {text} |")


if __name__ == "__main__":
    main()
