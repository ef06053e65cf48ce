"""The generated models (`codex_client/generated/`) against recorded real server traffic.

The fixtures are the protocol crate's `tests/fixtures/*.jsonl`: one JSON-RPC message a line, as
the pinned app-server sent them. Every notification's params validate into the class that
`NOTIFICATION_MODELS` names for its method, the whole message validates into the
`ServerNotification` union as that method's variant, and `model_dump(by_alias=True,
exclude_none=True)` gives the original back, except for `null` / `false` / `[]` that may be
omitted and for fields the stable schema does not name (the real server sends some experimental
fields in stable sessions too; the experimental bundle names them). The thread / turn routing
table agrees with the Rust protocol crate's `ROUTING`.

The generated package is loaded from the source tree on its own (it imports nothing else of
`codex_client`), so this runs without building the native module.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

CRATE = Path(__file__).resolve().parents[1]
WORKSPACE = CRATE.parents[1]
GENERATED = CRATE / "python/codex_client/generated"
PROTOCOL = WORKSPACE / "crates/codex-client-protocol"
FIXTURES = sorted((PROTOCOL / "tests/fixtures").glob("*.jsonl"))


def load_generated():
    name = "_codex_client_generated_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, GENERATED / "__init__.py", submodule_search_locations=[str(GENERATED)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    for sub in ("v2_all", "notification_registry"):
        importlib.import_module(f"{name}.{sub}")
    return package


@pytest.fixture(scope="module")
def gen():
    return load_generated()


def messages():
    out = []
    for path in FIXTURES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                out.append((f"{path.name}:{n}", json.loads(line)))
    return out


def notifications():
    return [(at, m) for at, m in messages() if "method" in m and "id" not in m]


def normalized(value):
    """`value` without the keys whose value is null, false or [] (what a dump may omit)."""
    if isinstance(value, dict):
        return {
            k: normalized(v)
            for k, v in value.items()
            if not (v is None or v is False or (isinstance(v, list) and not v))
        }
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def diff(original, back, path, dropped, other):
    if isinstance(original, dict) and isinstance(back, dict):
        for k, v in original.items():
            if k in back:
                diff(v, back[k], f"{path}.{k}", dropped, other)
            else:
                dropped.append(f"{path}.{k}")
        other.extend(f"{path}.{k} (added)" for k in back if k not in original)
    elif isinstance(original, list) and isinstance(back, list) and len(original) == len(back):
        for i, (a, b) in enumerate(zip(original, back)):
            diff(a, b, f"{path}[{i}]", dropped, other)
    elif original != back or isinstance(original, bool) != isinstance(back, bool):
        other.append(f"{path}: {original!r} became {back!r}")


def property_names(bundle_path: Path) -> set[str]:
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                names.update(node["properties"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(bundle_path.read_text()))
    return names


def round_trip(model, value, at, report):
    dump = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    dropped, other = [], []
    diff(normalized(value), normalized(dump), "", dropped, other)
    report["dropped"] += [f"{at}: {p}" for p in dropped]
    report["other"] += [f"{at}: {p}" for p in other]


def check_report(report):
    assert not report["other"], "values changed in the round trip:\n" + "\n".join(report["other"])
    experimental = property_names(
        PROTOCOL / "schema-experimental/codex_app_server_protocol.v2.schemas.json"
    )
    unexpected = [p for p in report["dropped"] if p.rsplit(".", 1)[-1] not in experimental]
    assert not unexpected, "fields dropped that no schema names:\n" + "\n".join(unexpected)


def test_fixtures_are_there():
    assert FIXTURES, "no fixtures"
    assert len(notifications()) > 100


def test_every_notification_validates_and_round_trips(gen):
    registry = gen.notification_registry
    report = {"dropped": [], "other": []}
    for at, message in notifications():
        method = message["method"]
        assert method in registry.NOTIFICATION_MODELS, f"{at}: {method} has no payload model"
        model = registry.NOTIFICATION_MODELS[method].model_validate(message["params"])
        round_trip(model, message["params"], at, report)
    check_report(report)


def test_every_notification_is_its_server_notification_variant(gen):
    v2 = gen.v2_all
    registry = gen.notification_registry
    for at, message in notifications():
        method = message["method"]
        union = v2.ServerNotification.model_validate(message).root
        variant = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", method) if p)
        assert type(union).__name__ == f"{variant}ServerNotification", at
        assert union.method == method, at
        assert isinstance(union.params, registry.NOTIFICATION_MODELS[method]), at
        if "emittedAtMs" in message:
            assert union.emitted_at_ms == message["emittedAtMs"], at


def test_turn_and_thread_responses_round_trip(gen):
    v2 = gen.v2_all
    report = {"dropped": [], "other": []}
    checked = 0
    for at, message in messages():
        result = message.get("result")
        if not isinstance(result, dict):
            continue
        if "thread" in result:
            model = v2.ThreadStartResponse.model_validate(result)
        elif "turn" in result:
            model = v2.TurnStartResponse.model_validate(result)
        else:
            continue
        checked += 1
        round_trip(model, result, at, report)
    assert checked > 5
    check_report(report)


def test_registry_covers_every_schema_notification(gen):
    bundle = json.loads((PROTOCOL / "schema/codex_app_server_protocol.v2.schemas.json").read_text())
    variants = bundle["definitions"]["ServerNotification"]["oneOf"]
    methods = {v["properties"]["method"]["enum"][0] for v in variants}
    registry = gen.notification_registry
    assert set(registry.NOTIFICATION_MODELS) == methods
    assert set(registry.NOTIFICATION_ROUTING) == methods


def rust_routing() -> dict[str, tuple[str | None, str | None]]:
    src = (PROTOCOL / "src/generated/notifications.rs").read_text()
    block = src[src.index("pub const ROUTING") :]
    block = block[: block.index("];")]
    opt = r'(None|Some\("[^"]*"\))'
    out = {}
    for method, thread, turn in re.findall(rf'\(\s*"([^"]+)",\s*{opt},\s*{opt},?\s*\)', block):
        out[method] = tuple(None if x == "None" else x[6:-2] for x in (thread, turn))
    return out


def test_routing_agrees_with_the_rust_protocol_crate(gen):
    assert gen.notification_registry.NOTIFICATION_ROUTING == rust_routing()


def at_path(message, path):
    value = message
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def test_routing_reads_the_ids_the_messages_carry(gen):
    registry = gen.notification_registry
    for at, message in notifications():
        method = message["method"]
        payload = registry.NOTIFICATION_MODELS[method].model_validate(message["params"])
        thread_path, turn_path = registry.NOTIFICATION_ROUTING[method]
        assert registry.notification_thread_id(payload) == (
            at_path(message, thread_path) if thread_path else None
        ), at
        assert registry.notification_turn_id(payload) == (
            at_path(message, turn_path) if turn_path else None
        ), at
