"""The native decoder's fast path (the flat delta models built in Rust) against the package's
own decoder (``model_validate_json``): the same values, for every flat model and every shape of
params that could tell them apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_client._native import NotificationDecoder
from codex_client._routing import DECODER, _flat_fields, decode_notification
from codex_client.generated.notification_registry import NOTIFICATION_MODELS
from codex_client.models import Notification, UnknownNotification


def sample(method: str, seed: str = "") -> dict[str, str | int]:
    """Params for a flat model: each field's wire key with a distinct string or integer."""
    fields = _flat_fields(NOTIFICATION_MODELS[method])
    return {
        wire: f"{name}-{seed}é\n\"\\" if kind == "str" else -(2**40) - len(name)
        for wire, name, kind in fields
    }


def assert_same(fast: Notification, slow: Notification) -> None:
    assert type(fast) is Notification
    assert fast.method == slow.method
    assert type(fast.payload) is type(slow.payload)
    assert fast.payload == slow.payload
    if isinstance(slow.payload, UnknownNotification):
        return
    assert fast.payload.model_fields_set == slow.payload.model_fields_set
    assert fast.payload.model_dump(by_alias=True) == slow.payload.model_dump(by_alias=True)
    assert fast.payload.model_dump_json() == slow.payload.model_dump_json()
    assert fast.payload.__pydantic_extra__ == slow.payload.__pydantic_extra__
    assert fast.payload.__pydantic_private__ == slow.payload.__pydantic_private__
    assert repr(fast) == repr(slow)


def test_the_flat_models_are_found_by_inspection_and_include_the_deltas():
    flat = set(DECODER.flat_methods)
    for method in (
        "item/agentMessage/delta",
        "item/commandExecution/outputDelta",
        "item/plan/delta",
        "item/reasoning/textDelta",
        "item/reasoning/summaryTextDelta",
    ):
        assert method in flat
    for method in flat:
        model = NOTIFICATION_MODELS[method]
        assert all(
            info.annotation in (str, int) and info.is_required() for info in model.model_fields.values()
        )
    # A model with a field of another type is not flat (the fallback decodes it).
    assert "turn/completed" not in flat
    assert "item/completed" not in flat


@pytest.mark.parametrize("method", DECODER.flat_methods)
def test_every_flat_model_decodes_as_model_validate_json_does(method):
    params = json.dumps(sample(method))
    assert_same(DECODER.decode(method, params), decode_notification(method, params))


@pytest.mark.parametrize(
    "params",
    [
        '{"threadId":"t","turnId":"u","itemId":"i","delta":"d","extra":{"nested":[1,null]}}',
        '{"threadId":"t","turnId":"u","itemId":"i"}',
        '{"threadId":"t","turnId":"u","itemId":"i","delta":5}',
        '{"threadId":"t","turnId":"u","itemId":"i","delta":null}',
        '{"thread_id":"t","turn_id":"u","item_id":"i","delta":"by name"}',
        '{"threadId":"t","turnId":"u","itemId":"i","delta":"first","delta":"last"}',
        '{"threadId":"t","turnId":"u","itemId":"i","delta":"\\ud83d\\ude00 \\u00e9\\t"}',
        "[]",
        '"text"',
        "{}",
        '{"threadId":"t"',
        '{"threadId":"t","turnId":"u","itemId":"i","delta":"d"} trailing',
    ],
)
def test_params_of_any_shape_decode_as_the_fallback_does(params):
    method = "item/agentMessage/delta"
    assert_same(DECODER.decode(method, params), decode_notification(method, params))


@pytest.mark.parametrize(
    "index",
    ["3", "-7", "0", "3.0", "3.5", '"3"', "true", "null", "18446744073709551616", "1e3", "[]"],
)
def test_an_integer_field_of_any_shape_decodes_as_the_fallback_does(index):
    method = "item/reasoning/textDelta"
    params = '{"threadId":"t","turnId":"u","itemId":"i","delta":"d","contentIndex":%s}' % index
    assert_same(DECODER.decode(method, params), decode_notification(method, params))


def test_a_batch_shares_repeated_ids_but_keeps_every_value():
    method = "item/agentMessage/delta"
    events = [
        (method, json.dumps({"threadId": "t1", "turnId": "u1", "itemId": "i1", "delta": d}))
        for d in ("a", "b", "a")
    ] + [(method, json.dumps({"threadId": "t1", "turnId": "u2", "itemId": "i2", "delta": "c"}))]
    decoded = list(DECODER.decode_batch(events))
    assert [n.payload.delta for n in decoded] == ["a", "b", "a", "c"]
    assert [n.payload.turn_id for n in decoded] == ["u1", "u1", "u1", "u2"]
    for notification, (m, params) in zip(decoded, events):
        assert_same(notification, decode_notification(m, params))


def test_a_batch_makes_each_event_when_iteration_reaches_it():
    method = "item/agentMessage/delta"
    events = [(method, json.dumps(sample(method, str(i)))) for i in range(3)]
    made = []

    def fallback(method, params):
        made.append(params)
        return decode_notification(method, params)

    # Everything through the fallback (no flat models), to see when each event is made.
    decoder = NotificationDecoder(Notification, fallback, [])
    batch = decoder.decode_batch(events)
    assert len(batch) == 3 and made == []
    first = next(batch)
    assert made == [events[0][1]] and len(batch) == 2
    assert_same(first, decode_notification(*events[0]))
    assert [n.payload.delta for n in batch] == [sample(method, "1")["delta"], sample(method, "2")["delta"]]
    assert len(batch) == 0 and next(batch, None) is None


def test_an_event_that_fails_to_decode_raises_at_its_place_and_loses_none_after_it():
    method = "item/agentMessage/delta"
    good = [(method, json.dumps(sample(method, str(i)))) for i in range(2)]

    def fallback(method, params):
        if method == "test/explodes":
            raise ValueError("cannot decode this one")
        return decode_notification(method, params)

    decoder = NotificationDecoder(Notification, fallback, [])
    batch = decoder.decode_batch([good[0], ("test/explodes", "{}"), good[1]])
    assert next(batch).payload.delta == sample(method, "0")["delta"]
    with pytest.raises(ValueError, match="cannot decode this one"):
        next(batch)
    assert [n.payload.delta for n in batch] == [sample(method, "1")["delta"]]


def test_a_fast_decoded_model_is_an_ordinary_model():
    method = "item/agentMessage/delta"
    params = json.dumps(sample(method, "x"))
    payload = DECODER.decode(method, params).payload
    payload.delta = "changed"
    assert payload.delta == "changed"
    assert type(payload).model_validate_json(payload.model_dump_json(by_alias=True)) == payload
    copy = payload.model_copy(update={"item_id": "other"})
    assert copy.item_id == "other" and payload.item_id != "other"


FIXTURES = sorted(
    (Path(__file__).resolve().parents[3] / "crates/codex-client-protocol/tests/fixtures").glob("**/*.jsonl")
)


def test_every_recorded_notification_decodes_as_the_fallback_does():
    # The real server's traffic (stable and experimental sessions), each notification's params
    # as the line has them: the fast path must agree with model_validate_json on all of it.
    assert FIXTURES, "no recorded fixtures"
    checked = fast = 0
    for path in FIXTURES:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            message = json.loads(line)
            if "method" not in message or "id" in message:
                continue
            method = message["method"]
            params = json.dumps(message.get("params", {}))
            assert_same(DECODER.decode(method, params), decode_notification(method, params))
            checked += 1
            fast += method in DECODER.flat_methods
    assert checked > 100 and fast > 10, (checked, fast)
