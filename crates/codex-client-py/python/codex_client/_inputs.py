"""Turn inputs: text, images, skills, mentions and :class:`ExternalMessage`, and their wire
form (the ``UserInput`` items of ``turn/start`` / ``turn/steer``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .generated.v2_all import FunctionCallOutputContentItem, TurnToolOutput
from .models import JsonObject


@dataclass(slots=True)
class TextInput:
    """Text supplied to a turn or a steer."""

    text: str


@dataclass(slots=True)
class ImageInput:
    """An image by URL (``https://`` or a ``data:`` URL)."""

    url: str


@dataclass(slots=True)
class LocalImageInput:
    """An image file on the machine the app-server runs on (sent to the model as a data URL)."""

    path: str


@dataclass(slots=True)
class SkillInput:
    """A skill by name and path."""

    name: str
    path: str


@dataclass(slots=True)
class MentionInput:
    """A mention of a named resource by path."""

    name: str
    path: str


@dataclass(slots=True)
class ExternalMessage:
    """Content from another agent, tool or application: tool-level authority, below user and
    developer instructions; never an approval. Pass it as the whole input of ``run()`` /
    ``turn()``. ``content`` is text or Responses function-output content items (dicts or the
    generated model)."""

    tool_name: str
    content: str | Sequence[JsonObject | FunctionCallOutputContentItem]
    namespace: str | None = None


InputItem = TextInput | ImageInput | LocalImageInput | SkillInput | MentionInput
Input = list[InputItem] | InputItem
RunInput = Input | str | ExternalMessage


def _to_wire_item(item: InputItem) -> JsonObject:
    match item:
        case TextInput(text=text):
            return {"type": "text", "text": text}
        case ImageInput(url=url):
            return {"type": "image", "url": url}
        case LocalImageInput(path=path):
            return {"type": "localImage", "path": path}
        case SkillInput(name=name, path=path):
            return {"type": "skill", "name": name, "path": path}
        case MentionInput(name=name, path=path):
            return {"type": "mention", "name": name, "path": path}
    raise TypeError(f"unsupported input item: {type(item)!r}")


def _to_wire_input(input: Input) -> list[JsonObject]:
    if isinstance(input, list):
        return [_to_wire_item(i) for i in input]
    return [_to_wire_item(input)]


def _normalize_run_input(input: Input | str) -> Input:
    return TextInput(input) if isinstance(input, str) else input


def _to_wire_turn_input(input: RunInput) -> tuple[list[JsonObject], TurnToolOutput | None]:
    """The ``input`` items and the ``toolOutput`` of ``turn/start`` for a run input."""
    if isinstance(input, ExternalMessage):
        if not isinstance(input.tool_name, str) or not input.tool_name.strip():
            raise ValueError("ExternalMessage.tool_name must be a nonempty string")
        return [], TurnToolOutput.model_validate(
            {"name": input.tool_name, "namespace": input.namespace, "output": input.content}
        )
    return _to_wire_input(_normalize_run_input(input)), None
