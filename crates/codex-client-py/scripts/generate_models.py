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

The interpreter must have ``scripts/requirements.txt`` installed (datamodel-code-generator and
black at the versions that pin the output). ``cargo xtask py-models [--check]`` runs this script.
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
BLACK_VERSION = "26.10.1"
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
            if (
                isinstance(variants, list)
                and len(variants) > 1
                and all(is_single_string_enum(v) for v in variants)
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
    "--input-file-type",
    "jsonschema",
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--target-python-version",
    "3.10",
    "--snake-case-field",
    "--allow-population-by-field-name",
    "--use-annotated",
    "--use-union-operator",
    "--use-standard-collections",
    "--enum-field-as-literal",
    "one",
    "--disable-timestamp",
    "--no-formatters",  # black runs after the post-pass (`format_python`)
]
BLACK_LINE_LENGTH = 100


def require(package: str, version: str) -> None:
    """The generator and formatter versions pin the output: refuse any other."""
    from importlib import metadata

    try:
        found = metadata.version(package)
    except metadata.PackageNotFoundError:
        found = None
    if found != version:
        sys.exit(
            f"generate_models: {package}=={version} is needed in {sys.executable}, found "
            f"{found or 'none'} (pip install -r {SCRIPT_DIR / 'requirements.txt'})"
        )


def run_codegen(schema: dict) -> str:
    require("datamodel-code-generator", DATAMODEL_CODEGEN_VERSION)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / SCHEMA.name
        out = Path(tmp) / "v2_all.py"
        src.write_text(json.dumps(schema, indent=2))
        cmd = [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(src),
            "--output",
            str(out),
            *CODEGEN_ARGS,
        ]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            sys.exit(f"generate_models: datamodel-codegen failed ({proc.returncode})")
        return out.read_text()


# ----------------------------------------------------------------------------------------------
# Post-pass over the generated module
# ----------------------------------------------------------------------------------------------


def header(what: str) -> str:
    return (
        f"# Generated by `{COMMAND}` (crates/codex-client-py/scripts/generate_models.py): DO NOT EDIT.\n"
        f"# {what}\n"
        f"# Source: crates/codex-client-protocol/schema/{SCHEMA.name}\n"
        f"# (datamodel-code-generator {DATAMODEL_CODEGEN_VERSION}, then black {BLACK_VERSION}).\n"
    )


def open_enum_missing(name: str, refuse_empty: bool) -> list[str]:
    guard = "not isinstance(value, str)" + (" or not value" if refuse_empty else "")
    return [
        "",
        "    @classmethod",
        f"    def _missing_(cls, value: object) -> {name} | None:",
        "        # An unknown value becomes a pseudo-member instead of an error: the server adds",
        "        # members over time.",
        f"        if {guard}:",
        "            return None",
        "        member = str.__new__(cls, value)",
        "        member._name_ = value",
        "        member._value_ = value",
        "        return member",
    ]


ROOT_MODEL_CONFIG = ["    model_config = ConfigDict(", "        populate_by_name=True,", "    )"]


def postprocess(text: str) -> str:
    """Open enums, `populate_by_name` on root models too, bare `list` for untyped arrays."""
    import ast

    lines = text.splitlines()
    tree = ast.parse(text)
    inserts: list[tuple[int, list[str]]] = []  # (0-based line index, lines) to insert before
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [ast.unparse(b) for b in node.bases]
        if node.name in OPEN_ENUMS:
            if bases != ["Enum"]:
                raise SystemExit(f"generate_models: {node.name} is not an Enum ({bases})")
            found.add(node.name)
            head = node.lineno - 1
            lines[head] = lines[head].replace(
                f"class {node.name}(Enum):", f"class {node.name}(str, Enum):"
            )
            inserts.append((node.end_lineno, open_enum_missing(node.name, OPEN_ENUMS[node.name])))
        elif bases and bases[0].startswith("RootModel["):
            first = node.body[0]
            if not (
                isinstance(first, ast.Assign) and ast.unparse(first.targets[0]) == "model_config"
            ):
                inserts.append((first.lineno - 1, ROOT_MODEL_CONFIG))
    missing = set(OPEN_ENUMS) - found
    if missing:
        raise SystemExit(f"generate_models: open enums not generated: {sorted(missing)}")
    for at, new in sorted(inserts, key=lambda x: x[0], reverse=True):
        lines[at:at] = new
    body = "\n".join(lines) + "\n"
    body = re.sub(r"\blist\[Any\]", "list", body)
    # datamodel-codegen's own two header lines give way to ours.
    body = re.sub(r"\A# generated by datamodel-codegen:\n#   filename: .*\n", "", body)
    return header("The app-server wire models (pydantic v2).") + body


def format_python(text: str) -> str:
    require("black", BLACK_VERSION)
    import black

    mode = black.Mode(line_length=BLACK_LINE_LENGTH, target_versions={black.TargetVersion.PY310})
    return black.format_str(text, mode=mode)


def write_or_check(outputs: dict[Path, str], check: bool) -> int:
    stale = [p for p, t in outputs.items() if not p.exists() or p.read_text() != t]
    if check:
        for p in stale:
            print(f"stale: {p} (run `{COMMAND}`)", file=sys.stderr)
        return 1 if stale else 0
    for p, t in outputs.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(t)
        print(f"{'wrote' if p in stale else 'unchanged'}: {p}")
    return 0


# ----------------------------------------------------------------------------------------------
# notification_registry.py
# ----------------------------------------------------------------------------------------------


def ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return ref.rsplit("/", 1)[-1] if ref.startswith("#/definitions/") else None


def notification_methods(bundle: dict) -> dict[str, str]:
    """method -> payload definition, from the (unprocessed) `ServerNotification` union."""
    out: dict[str, str] = {}
    for variant in bundle["definitions"]["ServerNotification"]["oneOf"]:
        method = variant_method(variant)
        payload = ref_name(variant.get("properties", {}).get("params", {}))
        if method is None or payload is None:
            raise SystemExit(
                f"generate_models: a ServerNotification variant without method/params: {variant}"
            )
        out[method] = payload
    return out


def id_path(definitions: dict, payload: str, what: str) -> str | None:
    """Where a payload holds the id of its thread / turn: `params.threadId`, `params.thread.id`.

    `threadId` / `turnId` (possibly nullable) directly, else a `thread` / `turn` object (the
    `Thread` / `Turn` definitions, whose `id` is required).
    """
    props = definitions[payload].get("properties", {})
    if f"{what}Id" in props:
        return f"params.{what}Id"
    nested = ref_name(props.get(what, {}))
    if nested == what.capitalize() and "id" in definitions[nested].get("required", []):
        return f"params.{what}.id"
    return None


def registry_module(bundle: dict) -> str:
    definitions = bundle["definitions"]
    methods = notification_methods(bundle)
    classes = sorted(set(methods.values()))
    routing = {
        m: (id_path(definitions, p, "thread"), id_path(definitions, p, "turn"))
        for m, p in methods.items()
    }

    def of_kind(index: int, kind: str) -> list[str]:
        return sorted(
            {
                methods[m]
                for m, r in routing.items()
                if r[index] and r[index].count(".") == (1 if kind == "direct" else 2)
            }
        )

    out = [
        header(
            "Server notification method -> payload model, and where each payload holds its thread / turn id."
        ),
        "",
        '"""Server notification payload models by method, and their thread / turn routing."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TypeAlias",
        "",
        "from pydantic import BaseModel",
        "",
    ]
    out += [f"from .v2_all import {c}" for c in classes]
    out += ["", "KnownNotificationPayload: TypeAlias = ("]
    out += [f"    {'| ' if i else ''}{c}" for i, c in enumerate(classes)]
    out += [")", "", "NOTIFICATION_MODELS: dict[str, type[KnownNotificationPayload]] = {"]
    out += [f'    "{m}": {methods[m]},' for m in sorted(methods)]
    out += ["}", ""]
    out += [
        "# Where the params of each method hold the id of the thread / turn they belong to, as a",
        "# dotted path into the message (`params.threadId`, `params.turn.id`); None: no such id.",
        "# The Rust protocol crate routes by the same table (`ROUTING`).",
        "NOTIFICATION_ROUTING: dict[str, tuple[str | None, str | None]] = {",
    ]
    for m in sorted(routing):
        thread, turn = (f'"{x}"' if x else "None" for x in routing[m])
        out.append(f'    "{m}": ({thread}, {turn}),')
    out += ["}", ""]
    for index, what in ((1, "TURN"), (0, "THREAD")):
        out += [f"DIRECT_{what}_ID_NOTIFICATION_TYPES: tuple[type[BaseModel], ...] = ("]
        out += [f"    {c}," for c in of_kind(index, "direct")]
        out += [")", "", f"NESTED_{what}_NOTIFICATION_TYPES: tuple[type[BaseModel], ...] = ("]
        out += [f"    {c}," for c in of_kind(index, "nested")]
        out += [")", ""]
    for what in ("turn", "thread"):
        upper = what.upper()
        out += [
            "",
            f"def notification_{what}_id(payload: BaseModel) -> str | None:",
            f'    """The id of the {what} a notification payload belongs to, where its schema has one."""',
            f"    if isinstance(payload, DIRECT_{upper}_ID_NOTIFICATION_TYPES):",
            f"        return payload.{what}_id if isinstance(payload.{what}_id, str) else None",
            f"    if isinstance(payload, NESTED_{upper}_NOTIFICATION_TYPES):",
            f"        return payload.{what}.id",
            "    return None",
            "",
        ]
    return "\n".join(out)


def init_module() -> str:
    return (
        header("The generated part of codex_client.")
        + '\n"""Python types generated from the app-server schema."""\n'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    args = parser.parse_args()
    bundle = json.loads(args.schema.read_text())
    models = format_python(postprocess(run_codegen(prepare(bundle))))
    outputs = {
        args.out_dir / "__init__.py": format_python(init_module()),
        args.out_dir / "v2_all.py": models,
        args.out_dir / "notification_registry.py": format_python(registry_module(bundle)),
    }
    return write_or_check(outputs, args.check)


if __name__ == "__main__":
    sys.exit(main())
