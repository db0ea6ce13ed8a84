#!/usr/bin/env python3
"""Generates src/fhir/r4_model_data.inc, the FHIR R4 type model tables.

Input is the npm package hl7.fhir.r4.examples@4.0.1, whose
package/Bundle-types.json and package/Bundle-resources.json hold the official
R4 StructureDefinitions (with snapshots). Get it with

    npm pack hl7.fhir.r4.examples@4.0.1

and run

    python3 tools/gen_fhir_model.py hl7.fhir.r4.examples-4.0.1.tgz

The argument may also be the extracted folder (the one holding package/, or
package/ itself). The output is deterministic: the same input gives the same
bytes. See docs/fhir-model.md for what is modelled and why.

Python 3 standard library only.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile

PACKAGE = "hl7.fhir.r4.examples@4.0.1"
BUNDLES = ("package/Bundle-types.json", "package/Bundle-resources.json")

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
SYSTEM_PREFIX = "http://hl7.org/fhirpath/System."

# The FHIRPath System type of each primitive's value; any primitive not listed
# maps to kString (string, code, id, uri, url, canonical, oid, uuid, markdown,
# base64Binary, xhtml).
PRIMITIVE_SYSTEM_TYPES = {
    "boolean": "kBoolean",
    "integer": "kInteger",
    "positiveInt": "kInteger",
    "unsignedInt": "kInteger",
    "decimal": "kDecimal",
    "date": "kDate",
    "dateTime": "kDateTime",
    "instant": "kDateTime",
    "time": "kTime",
}

# An element typed with a bare System type and no fhir-type extension gets the
# FHIR primitive that carries that System type.
SYSTEM_TO_FHIR = {
    "String": "string",
    "Boolean": "boolean",
    "Integer": "integer",
    "Decimal": "decimal",
    "Date": "date",
    "DateTime": "dateTime",
    "Time": "time",
}

# Constraint profiles of a complex type that are kept as types of their own,
# with the constrained type as base. Every other constraint (vitalsigns and
# the like are resource profiles and do not even live in these bundles) is
# skipped.
KEPT_CONSTRAINTS = {"SimpleQuantity", "MoneyQuantity"}

# A resource's own `id` element, corrected against the published R4
# specification. The 4.0.1 snapshots type <Resource>.id as System.String with
# fhir-type "string", but the specification (resource.html: "id : id") and
# the FHIRPath engines of reference give a resource id the type `id`; the
# official FHIRPath suite checks it (testContainedId: contained.id is an id).
RESOURCE_ID_TYPE = ["id"]

KIND_NAMES = {
    "primitive-type": "kPrimitive",
    "complex-type": "kComplex",
    "resource": "kResource",
}

HASH_EMPTY = 0xFFFF


class GenError(Exception):
    pass


def read_bundles(source):
    """Returns {member name: bytes} for the two bundles in a tarball or dir."""
    out = {}
    if os.path.isdir(source):
        for member in BUNDLES:
            candidates = [os.path.join(source, member),
                          os.path.join(source, os.path.basename(member))]
            for path in candidates:
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        out[member] = f.read()
                    break
            else:
                raise GenError(f"{member} not found under {source}")
        return out
    with tarfile.open(source, "r:*") as tar:
        for member in BUNDLES:
            try:
                f = tar.extractfile(member)
            except KeyError:
                f = None
            if f is None:
                raise GenError(f"{member} not found in {source}")
            out[member] = f.read()
    return out


def last_segment(url):
    return url.rsplit("/", 1)[-1] if url else None


def select_definitions(bundles):
    """Returns the StructureDefinitions to model, in input order."""
    selected = []
    for member in BUNDLES:
        bundle = json.load(io.BytesIO(bundles[member]))
        for entry in bundle.get("entry", []):
            sd = entry.get("resource", {})
            if sd.get("resourceType") != "StructureDefinition":
                continue
            kind = sd.get("kind")
            if kind not in KIND_NAMES:
                continue  # logical models (MetadataResource)
            derivation = sd.get("derivation")
            if derivation == "constraint":
                if kind != "complex-type" or sd["name"] not in KEPT_CONSTRAINTS:
                    continue
            elif derivation not in (None, "specialization"):
                continue
            if "snapshot" not in sd:
                raise GenError(f"{sd['name']} has no snapshot")
            selected.append(sd)
    return selected


def type_code_name(type_entry):
    """The FHIR type name an ElementDefinition.type entry stands for."""
    code = type_entry["code"]
    if not code.startswith(SYSTEM_PREFIX):
        # Profiled references (Reference(Patient)) and profiled types keep
        # their code; the profile/targetProfile is not part of the model.
        return code
    for ext in type_entry.get("extension", []):
        if ext.get("url") == FHIR_TYPE_EXT:
            return ext.get("valueUrl") or ext.get("valueUri") or ext.get("valueString")
    system = code[len(SYSTEM_PREFIX):]
    if system not in SYSTEM_TO_FHIR:
        raise GenError(f"unknown System type {code}")
    return SYSTEM_TO_FHIR[system]


def is_array(max_card):
    return max_card == "*" or int(max_card) > 1


class Model:
    def __init__(self):
        # name -> dict(kind, abstract, base, system, elements=[(name, choice,
        # array, [type names])], prohibited={element names with max 0})
        self.types = {}

    def add(self, name, **info):
        if name in self.types:
            raise GenError(f"duplicate type {name}")
        self.types[name] = info


def build_model(definitions):
    model = Model()
    for sd in definitions:
        name = sd["name"]
        kind = KIND_NAMES[sd["kind"]]
        derivation = sd.get("derivation")
        base = last_segment(sd.get("baseDefinition"))
        if derivation is None:
            base = None  # Element, Resource
        snapshot = sd["snapshot"]["element"]
        root = snapshot[0]["path"]
        if "." in root:
            raise GenError(f"{name}: first snapshot element {root} is not the root")
        paths = [el["path"] for el in snapshot]
        has_children = set()
        for path in paths:
            if "." in path:
                has_children.add(path.rsplit(".", 1)[0])

        def type_name_of_path(path):
            # Backbone types are named by path, with the profile's own name
            # standing in for the constrained type's (SimpleQuantity.x).
            return name + path[len(root):]

        # Elements of the root and of every backbone, keyed by the owner path.
        owners = {root: []}
        backbone_base = {}
        prohibited = {}
        for el in snapshot[1:]:
            if el.get("sliceName") or ":" in el.get("id", ""):
                continue  # slices are not elements of the type
            path = el["path"]
            parent, elem_name = path.rsplit(".", 1)
            if parent not in owners:
                raise GenError(f"{name}: {path} has no owner")
            if el.get("max") == "0":
                # Prohibited (SimpleQuantity.comparator, xhtml.extension).
                prohibited.setdefault(parent, set()).add(elem_name)
                continue
            if parent == root and kind == "kPrimitive" and elem_name == "value":
                continue  # a primitive's value is its System value, not an element
            codes = [type_code_name(t) for t in el.get("type", [])]
            if kind == "kResource" and parent == root and elem_name == "id":
                codes = RESOURCE_ID_TYPE
            if "contentReference" in el:
                ref = el["contentReference"]
                if not ref.startswith("#"):
                    raise GenError(f"{path}: external contentReference {ref}")
                ref_path = ref[1:]
                if ref_path.split(".", 1)[0] != root or ref_path not in has_children:
                    raise GenError(f"{path}: contentReference {ref} is not a backbone here")
                types = [type_name_of_path(ref_path)]
            elif path in has_children:
                if codes not in (["BackboneElement"], ["Element"]):
                    raise GenError(f"{path}: nested elements under type {codes}")
                owners[path] = []
                backbone_base[path] = codes[0]
                types = [type_name_of_path(path)]
            else:
                if not codes:
                    raise GenError(f"{path}: no type")
                if codes[0] in ("BackboneElement", "Element") and len(codes) == 1:
                    raise GenError(f"{path}: backbone without elements")
                types = []
                for code in codes:  # a choice may list a code once per profile
                    if code not in types:
                        types.append(code)
            is_choice = elem_name.endswith("[x]")
            if is_choice:
                elem_name = elem_name[:-3]
            elif len(types) != 1:
                raise GenError(f"{path}: several types but not a choice")
            owners[parent].append((elem_name, is_choice, is_array(el["max"]), types))

        system = "kNone"
        if kind == "kPrimitive":
            system = PRIMITIVE_SYSTEM_TYPES.get(name, "kString")
        model.add(name, kind=kind, abstract=bool(sd.get("abstract")), base=base,
                  system=system, elements=owners[root],
                  prohibited=prohibited.get(root, set()))
        for path, elements in owners.items():
            if path == root:
                continue
            model.add(type_name_of_path(path), kind="kBackbone", abstract=False,
                      base=backbone_base[path], system="kNone", elements=elements,
                      prohibited=prohibited.get(path, set()))
    return model


def check_model(model):
    types = model.types
    for name, info in types.items():
        if info["base"] is not None and info["base"] not in types:
            raise GenError(f"{name}: unknown base {info['base']}")
        seen = set()
        for elem_name, _, _, elem_types in info["elements"]:
            if elem_name in seen:
                raise GenError(f"{name}: duplicate element {elem_name}")
            seen.add(elem_name)
            for t in elem_types:
                if t not in types:
                    raise GenError(f"{name}.{elem_name}: unknown type {t}")
        # The snapshot already holds the inherited elements; make sure of it.
        base = info["base"]
        if base is not None:
            own = {e[0] for e in info["elements"]}
            inherited = {e[0] for e in types[base]["elements"]}
            missing = inherited - own - info["prohibited"]
            if missing:
                raise GenError(f"{name}: lacks inherited elements {sorted(missing)}")
    for name in ("Element", "Resource"):
        if types.get(name, {}).get("base", "") is not None:
            raise GenError(f"{name} must be a root")
    if not all(n.isascii() for n in types):
        raise GenError("non-ASCII type name")


def fnv1a(text):
    h = 0x811C9DC5
    for byte in text.encode("ascii"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def capitalize(type_name):
    return type_name[:1].upper() + type_name[1:]


def wrap(items, indent="    ", width=100):
    """Joins `items` with ", " into lines no longer than `width`."""
    lines, line = [], indent
    for item in items:
        piece = item + ","
        if len(line) + len(piece) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece + " "
    if line.strip():
        lines.append(line.rstrip())
    return lines


def cstr(text):
    if any(c in text for c in '"\\') or not text.isascii():
        raise GenError(f"unexpected characters in {text!r}")
    return f'"{text}"'


def generate(model, bundles):
    names = sorted(model.types)  # byte order: ASCII only, checked above
    index = {name: i for i, name in enumerate(names)}
    if len(names) >= HASH_EMPTY:
        raise GenError("too many types for uint16_t indices")

    # Type lists, deduplicated.
    type_lists, type_list_at, flat_types = {}, {}, []
    # Element lists, deduplicated; each with its JSON names.
    element_lists, element_list_at, flat_elements, flat_json = {}, {}, [], []
    type_ranges = []
    for name in names:
        info = model.types[name]
        elements = sorted(info["elements"], key=lambda e: e[0])
        key = tuple((e[0], e[1], e[2], tuple(e[3])) for e in elements)
        if key not in element_list_at:
            start, json_start = len(flat_elements), len(flat_json)
            json_names = []
            for elem_name, is_choice, array, elem_types in elements:
                tkey = tuple(elem_types)
                if tkey not in type_list_at:
                    type_list_at[tkey] = len(flat_types)
                    flat_types.extend(index[t] for t in tkey)
                elem_index = len(flat_elements)
                flat_elements.append((elem_name, is_choice, array, type_list_at[tkey], len(tkey)))
                if is_choice:
                    for t in elem_types:
                        json_names.append((elem_name + capitalize(t), elem_index, index[t]))
            json_names.sort()
            plain = {e[0] for e in elements}
            for a, b in zip(json_names, json_names[1:]):
                if a[0] == b[0]:
                    raise GenError(f"{name}: JSON name {a[0]} is ambiguous")
            for json_name, _, _ in json_names:
                if json_name in plain:
                    raise GenError(f"{name}: JSON name {json_name} is also an element")
            flat_json.extend(json_names)
            element_list_at[key] = (start, len(elements), json_start, len(json_names))
        type_ranges.append(element_list_at[key])
    if len(flat_elements) >= 1 << 16:
        raise GenError("too many elements for uint16_t indices")

    hash_size = 1
    while hash_size < 2 * len(names):
        hash_size *= 2
    table = [HASH_EMPTY] * hash_size
    for i, name in enumerate(names):
        slot = fnv1a(name) & (hash_size - 1)
        while table[slot] != HASH_EMPTY:
            slot = (slot + 1) & (hash_size - 1)
        table[slot] = i

    kinds = {}
    for info in model.types.values():
        kinds[info["kind"]] = kinds.get(info["kind"], 0) + 1
    resources = [n for n in names if model.types[n]["kind"] == "kResource"]
    concrete = [n for n in resources if not model.types[n]["abstract"]]
    digests = "\n".join(
        f"//   {member}  sha256 {hashlib.sha256(bundles[member]).hexdigest()}"
        for member in BUNDLES)

    out = []
    w = out.append
    w("// GENERATED FILE - DO NOT EDIT.")
    w("//")
    w(f"// The FHIR R4 type model, generated by tools/gen_fhir_model.py from the npm")
    w(f"// package {PACKAGE}:")
    w(digests)
    w("// Regenerate (see docs/fhir-model.md):")
    w("//   npm pack hl7.fhir.r4.examples@4.0.1")
    w("//   python3 tools/gen_fhir_model.py hl7.fhir.r4.examples-4.0.1.tgz")
    w("//")
    w(f"// {len(names)} types: {kinds.get('kPrimitive', 0)} primitive, "
      f"{kinds.get('kComplex', 0)} complex, {kinds.get('kResource', 0)} resource "
      f"({len(concrete)} concrete), {kinds.get('kBackbone', 0)} backbone.")
    w(f"// {len(flat_elements)} element entries (inherited ones included, identical lists")
    w(f"// shared), {len(flat_json)} JSON property names, {len(flat_types)} element type refs.")
    w("//")
    w("// Included by model.cc inside its own namespace, after it defines")
    w("// R4Range and R4JsonName. Types are sorted by name;")
    w("// kR4TypeHash is an open-addressing table (FNV-1a, linear probing) of")
    w("// indices into kR4Types.")
    w("")
    w(f"inline constexpr std::size_t kR4TypeCount = {len(names)};")
    w(f"inline constexpr std::size_t kR4TypeHashSize = {hash_size};")
    w("extern const TypeInfo kR4Types[kR4TypeCount];")
    w("")
    w("// The types of each element, as runs of pointers into kR4Types.")
    w("#define T(i) &kR4Types[i]")
    w("constexpr const TypeInfo* kR4ElementTypes[] = {")
    out.extend(wrap([f"T({i})" for i in flat_types]))
    w("};")
    w("#undef T")
    w("")
    w("// name, is_choice, is_array, offset and count in kR4ElementTypes.")
    w("#define E(name, choice, array, offset, count) \\")
    w("  {name, choice != 0, array != 0, {kR4ElementTypes + (offset), count}}")
    w("constexpr ElementInfo kR4Elements[] = {")
    owner_of = {}
    for name, (start, count, _, _) in zip(names, type_ranges):
        owner_of.setdefault(start, (name, count))
    for start in sorted(owner_of):
        name, count = owner_of[start]
        w(f"    // {start}: {name}")
        out.extend(wrap([f"E({cstr(e[0])}, {int(e[1])}, {int(e[2])}, {e[3]}, {e[4]})"
                         for e in flat_elements[start:start + count]]))
    w("};")
    w("#undef E")
    w("")
    w("// The JSON property names of choice elements (valueQuantity): name, index")
    w("// in kR4Elements, index in kR4Types; sorted by name within each type's run.")
    w("constexpr R4JsonName kR4JsonNames[] = {")
    out.extend(wrap([f"{{{cstr(j)}, {e}, {t}}}" for j, e, t in flat_json]))
    w("};")
    w("")
    w("// name, kind, is_abstract, base, system type, offset and count in kR4Elements.")
    w("#define Y(name, kind, abstract, base, system, offset, count) \\")
    w("  {name, TypeKind::kind, abstract != 0, base, SystemType::system, {kR4Elements + (offset), count}}")
    w("constexpr TypeInfo kR4Types[kR4TypeCount] = {")
    for i, name in enumerate(names):
        info = model.types[name]
        base = f"&kR4Types[{index[info['base']]}]" if info["base"] is not None else "nullptr"
        start, count, _, _ = type_ranges[i]
        w(f"    Y({cstr(name)}, {info['kind']}, {int(info['abstract'])}, {base}, "
          f"{info['system']}, {start}, {count}),  // {i}")
    w("};")
    w("#undef Y")
    w("")
    w("// Per type (same order as kR4Types): offset and count of its choice")
    w("// element JSON names in kR4JsonNames.")
    w("constexpr R4Range kR4TypeJsonNames[kR4TypeCount] = {")
    out.extend(wrap([f"{{{j}, {n}}}" for (_, _, j, n) in type_ranges]))
    w("};")
    w("")
    w(f"// {HASH_EMPTY} (kR4HashEmpty) marks an empty slot.")
    w("constexpr uint16_t kR4TypeHash[kR4TypeHashSize] = {")
    out.extend(wrap([str(v) for v in table]))
    w("};")
    w("")
    stats = dict(types=len(names), kinds=kinds, resources=len(resources),
                 concrete_resources=len(concrete), elements=len(flat_elements),
                 json_names=len(flat_json), type_refs=len(flat_types))
    return "\n".join(out), stats


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "src", "fhir", "r4_model_data.inc"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="hl7.fhir.r4.examples-4.0.1.tgz or its extracted folder")
    parser.add_argument("-o", "--output", default=default_out, help=f"default: {default_out}")
    args = parser.parse_args(argv)
    try:
        bundles = read_bundles(args.source)
        definitions = select_definitions(bundles)
        model = build_model(definitions)
        check_model(model)
        text, stats = generate(model, bundles)
    except (GenError, OSError, tarfile.TarError, ValueError) as e:
        print(f"gen_fhir_model: {e}", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write(text + "\n")
    print(f"wrote {args.output}: {stats}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
