#!/usr/bin/env python3
"""Generate ``codex_client.generated`` from the pinned app-server JSON schema.

Reads the stable v2 bundle
``crates/codex-client-protocol/schema/codex_app_server_protocol.v2.schemas.json``,
pre-processes it (see ``prepare``), runs datamodel-code-generator on the result, post-processes
the output (open enums, header) and writes:

* ``generated/v2_all.py``: the pydantic v2 wire models (snake_case fields, camelCase aliases);
* ``generated/notification_registry.py``: method -> payload model, plus turn-id routing metadata.

Usage::

    python generate_models.py            # write the files
    python generate_models.py --check    # exit 1 (listing the stale files) when they differ

The interpreter must have ``datamodel-code-generator==0.89.0`` installed (the version pins the
output). ``cargo xtask py-models [--check]`` runs this script.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DATAMODEL_CODEGEN_VERSION = "0.89.0"
COMMAND = "cargo xtask py-models"

SCRIPT_DIR = Path(__file__).resolve().parent
CRATE_DIR = SCRIPT_DIR.parent
WORKSPACE = CRATE_DIR.parent.parent
SCHEMA = WORKSPACE / "crates/codex-client-protocol/schema/codex_app_server_protocol.v2.schemas.json"
OUT_DIR = CRATE_DIR / "python/codex_client/generated"

# Enums that accept values the pinned schema does not list (the server adds members over time).
# name -> whether the empty string is refused too.
OPEN_ENUMS: dict[str, bool] = {
    "CodexErrorInfoValue": False,
    "PlanType": True,
    "ReasoningEffort": True,
    "ThreadSource": False,
}

# Open string types (the schema says only `string`) exposed as enums of their known members; they
# are open enums too (OPEN_ENUMS). The members are the SDK's public API (`ReasoningEffort.high`).
KNOWN_VALUES: dict[str, tuple[str, ...]] = {
    "ReasoningEffort": ("none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"),
    "ThreadSource": ("user", "subagent", "memory_consolidation"),
}

# The union whose variants are named after their `method` (`thread/started` ->
# `ThreadStartedServerNotification`) rather than after their title, whose names
# (`Thread/startedNotification`) collide with the payload definitions.
METHOD_NAMED_UNIONS = {"ServerNotification": "ServerNotification"}


# ----------------------------------------------------------------------------------------------
# Naming
# ----------------------------------------------------------------------------------------------


def pascal(text: str) -> str:
    """`thread/realtime/itemAdded` -> `ThreadRealtimeItemAdded`; keeps inner capitals."""
    parts = re.split(r"[^0-9A-Za-z]+", text)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def class_name_from_title(title: str) -> str:
    # `ApiKeyv2::LoginAccountParams`: the Rust module path `v2::` is noise in a Python name.
    return pascal(title.replace("v2::", ""))


# ----------------------------------------------------------------------------------------------
# Pre-pass over the schema
# ----------------------------------------------------------------------------------------------


def is_single_string_enum(node: dict) -> bool:
    return (
        isinstance(node, dict)
        and node.get("type") == "string"
        and isinstance(node.get("enum"), list)
        and len(node["enum"]) == 1
        and "properties" not in node
        and "title" not in node
    )


def flatten_enum_unions(node):
    """A `oneOf` whose every variant is a one-value string enum becomes one string enum.

    (The per-value descriptions are dropped: an Enum class has one docstring.)
    """
    if isinstance(node, dict):
        for key in ("oneOf", "anyOf"):
            variants = node.get(key)
            if isinstance(variants, list) and len(variants) > 1 and all(
                is_single_string_enum(v) for v in variants
            ):
                del node[key]
                node["type"] = "string"
                node["enum"] = [v["enum"][0] for v in variants]
        for value in node.values():
            flatten_enum_unions(value)
    elif isinstance(node, list):
        for value in node:
            flatten_enum_unions(value)


def variant_method(variant: dict) -> str | None:
    method = variant.get("properties", {}).get("method", {})
    values = method.get("enum")
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
        return values[0]
    return None


def union_key(schema: dict) -> str | None:
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return key
    return None


def merged(base: dict, variant: dict) -> dict:
    """`variant` with the `properties` / `required` that `base` declares beside its union.

    The shared properties come first (that is the field order of the generated class).
    """
    out = copy.deepcopy(variant)
    props = copy.deepcopy(base.get("properties", {}))
    props.update(out.get("properties", {}))
    if props:
        out["properties"] = props
    required = list(base.get("required", []))
    required += [r for r in out.get("required", []) if r not in required]
    if required:
        out["required"] = required
    if "properties" in out:
        out.setdefault("type", "object")
    return out


def expand_nested_unions(variants: list) -> list:
    """A variant that is itself an object with a union of objects becomes one variant each.

    `ImageUserInput` = {type, detail} + anyOf[{url} "UrlUserInput", {fileId} "FileIdUserInput"]
    becomes `ImageUserInput` {type, detail, url} and `FileIdUserInput` {type, detail, fileId}:
    the first keeps the variant's title, the others take their own.
    """
    out = []
    for variant in variants:
        key = union_key(variant) if isinstance(variant, dict) else None
        inner = variant.get(key) if key else None
        if (
            key
            and variant.get("properties")
            and all(isinstance(i, dict) and "properties" in i for i in inner)
        ):
            base = {k: v for k, v in variant.items() if k != key}
            for position, sub in enumerate(inner):
                one = merged(base, sub)
                if position == 0:
                    one["title"] = variant.get("title", sub.get("title"))
                    if "description" in variant:
                        one["description"] = variant["description"]
                    elif "description" in sub:
                        one["description"] = sub["description"]
                out.append(one)
        else:
            out.append(variant)
    return out


def hoist_union_variants(definitions: dict) -> dict[str, str]:
    """Give every inline union variant that becomes a class a definition of its own.

    datamodel-code-generator names inline variants `Parent1`, `Parent2`, …; the schema titles
    them (`ApiKeyAccount`), and the Python names should be those titles. First the properties
    a union declares beside its variants (`emittedAtMs` of `ServerNotification`, the common
    fields of `HookMetadata`) are merged into each variant. Then a variant is moved to
    `definitions[<name>]` and replaced by a `$ref`:

    * a variant of `ServerNotification`: named after its method + `ServerNotification`;
    * a titled variant: named after its title (`class_name_from_title`);
    * an untitled enum variant with several values: `<Parent>Value`.

    Untitled object variants stay inline (so they keep the generator's `Parent1` names), and a
    one-value enum variant stays inline (it becomes a `Literal`). Returns name -> parent.
    """
    hoisted: dict[str, str] = {}
    for parent in list(definitions):
        schema = definitions[parent]
        key = union_key(schema)
        if key is None:
            continue
        variants = expand_nested_unions(schema[key])
        if schema.get("properties"):
            variants = [
                merged(schema, v) if isinstance(v, dict) and "$ref" not in v else v
                for v in variants
            ]
            for shared in ("properties", "required"):
                schema.pop(shared, None)
            if schema.get("type") == "object":
                del schema["type"]
        for index, variant in enumerate(variants):
            if not isinstance(variant, dict) or "$ref" in variant:
                continue
            name = None
            if parent in METHOD_NAMED_UNIONS and variant_method(variant):
                name = pascal(variant_method(variant)) + METHOD_NAMED_UNIONS[parent]
            elif isinstance(variant.get("title"), str):
                name = class_name_from_title(variant["title"])
            elif isinstance(variant.get("enum"), list) and len(variant["enum"]) > 1:
                name = f"{parent}Value"
            if name is None:
                continue
            if name in definitions or name in hoisted:
                raise SystemExit(
                    f"generate_models: the variant {parent}.{key}[{index}] would be named "
                    f"{name}, which is taken (by {hoisted.get(name, 'a definition')})"
                )
            definitions[name] = variant
            hoisted[name] = parent
            variants[index] = {"$ref": f"#/definitions/{name}"}
        schema[key] = variants
        # A catch-all `{"type": ["string", "object"]}` beside an open `<Parent>Value` enum: the
        # enum already takes every string.
        if f"{parent}Value" in OPEN_ENUMS:
            for variant in variants:
                types = variant.get("type")
                if "$ref" not in variant and isinstance(types, list) and "string" in types:
                    rest = [t for t in types if t != "string"]
                    variant["type"] = rest[0] if len(rest) == 1 else rest
    return hoisted


def add_known_values(definitions: dict) -> None:
    """The open string types that the SDK exposes as enums with known members."""
    for name, values in KNOWN_VALUES.items():
        schema = definitions[name]
        if schema.get("type") != "string" or "enum" in schema:
            raise SystemExit(f"generate_models: {name} is no longer an open string: {schema}")
        schema["enum"] = list(values)
        schema.pop("minLength", None)


def prepare(bundle: dict) -> dict:
    bundle = copy.deepcopy(bundle)
    definitions = bundle["definitions"]
    flatten_enum_unions(definitions)
    add_known_values(definitions)
    hoist_union_variants(definitions)
    return bundle


# ----------------------------------------------------------------------------------------------
# datamodel-code-generator
# ----------------------------------------------------------------------------------------------

CODEGEN_ARGS = [
    "--input-file-type", "jsonschema",
    "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.10",
    "--snake-case-field",
    "--allow-population-by-field-name",
    "--use-annotated",
    "--use-union-operator",
    "--use-standard-collections",
    "--enum-field-as-literal", "one",
    "--disable-timestamp",
    "--formatters", "black",
]


def run_codegen(schema: dict) -> str:
    from importlib import metadata

    try:
        version = metadata.version("datamodel-code-generator")
    except metadata.PackageNotFoundError:
        sys.exit(
            "generate_models: datamodel-code-generator is not installed in "
            f"{sys.executable} (pip install datamodel-code-generator=={DATAMODEL_CODEGEN_VERSION})"
        )
    if version != DATAMODEL_CODEGEN_VERSION:
        sys.exit(
            f"generate_models: datamodel-code-generator {version} found, "
            f"{DATAMODEL_CODEGEN_VERSION} needed (the version pins the output)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / SCHEMA.name
        out = Path(tmp) / "v2_all.py"
        src.write_text(json.dumps(schema, indent=2))
        cmd = [sys.executable, "-m", "datamodel_code_generator", "--input", str(src),
               "--output", str(out), *CODEGEN_ARGS]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            sys.exit(f"generate_models: datamodel-codegen failed ({proc.returncode})")
        return out.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    args = parser.parse_args()
    bundle = json.loads(args.schema.read_text())
    text = run_codegen(prepare(bundle))
    (args.out_dir / "v2_all.py").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
