#!/usr/bin/env python3
"""Validates JSON files against a JSON Schema (used by the test suite).

usage: validate_json_schema.py SCHEMA FILE...   (FILE '-' reads stdin)

Uses Debian's python3-jsonschema. Prints one line per invalid document with
the first errors and their JSON paths; exit status 1 if any is invalid,
2 on usage errors or unreadable input.

A schema with an OpenAPI-style "discriminator" (the FHIR R4 JSON schema: a
root oneOf over every resource type, told apart by "resourceType") validates
a document against the one definition its discriminator names. That is what
the oneOf means, since each definition requires its own resourceType, and the
errors then point into the resource instead of "not valid under any of the
given schemas". Documents without a known discriminator value, and schemas
without a discriminator, are validated against the whole schema.
"""
import json
import sys

import jsonschema


def validator_for_document(validator, discriminator, document):
    """The validator for the definition the discriminator picks, if any."""
    if not isinstance(document, dict):
        return validator
    value = document.get(discriminator.get("propertyName"))
    target = discriminator.get("mapping", {}).get(value) if isinstance(value, str) else None
    if not isinstance(target, str):
        return validator
    # References resolve against the root schema (the validator's resolver).
    return validator.evolve(schema={"$ref": target})


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        schema = json.load(handle)
    # A relative $id ("regenpath.assessment/1") confuses $ref resolution in
    # jsonschema 4.10; the references are all local (#/...).
    schema.pop("$id", None)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict):
        discriminator = {}
    status = 0
    for path in argv[2:]:
        try:
            if path == "-":
                document = json.load(sys.stdin)
            else:
                with open(path, encoding="utf-8") as handle:
                    document = json.load(handle)
        except (OSError, ValueError) as error:
            print(f"{path}: cannot read JSON: {error}", file=sys.stderr)
            return 2
        errors = sorted(validator_for_document(validator, discriminator, document).iter_errors(document),
                        key=lambda e: [str(part) for part in e.absolute_path])
        if errors:
            status = 1
            for error in errors[:5]:
                where = "/".join(str(part) for part in error.absolute_path) or "(root)"
                print(f"{path}: {where}: {error.message[:300]}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
