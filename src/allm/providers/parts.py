"""What each wire can carry beyond text and images, shared by every provider's request code:
the pre-flight check for documents, audio and provider tools, and the server tool calls an
assistant message keeps for the next turn (docs/requests.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..data.messages import AudioPart, Content, DocumentPart, Image, ImagePart, Message, TextPart
from ..data.server_tools import Citation, ProviderTool, ServerToolCall
from ..errors import ValidationError
from ..events import CitationAdded, Event, ServerToolCallCompleted

__all__ = [
    "SERVER_TOOL_CALLS",
    "Extras",
    "assistant_content",
    "part_and_tool_problems",
    "part_problems",
    "refuse_parts_and_tools",
    "server_tool_calls",
    "url_citation",
]

# Where an assistant message keeps the provider tools' runs (``ServerToolCall`` values).
SERVER_TOOL_CALLS = "server_tool_calls"

FieldError = tuple[tuple[str | int, ...], str]
# A wire's answer for one part: None when it can carry it, else the problem's reason.
PartRule = Callable[[DocumentPart | AudioPart], str | None]


def part_problems(messages: Iterable[Message], rule: PartRule) -> list[FieldError]:
    """``(("messages", i, "content", j), reason)`` for every document or audio part ``rule``
    refuses."""
    problems: list[FieldError] = []
    for index, message in enumerate(messages):
        if isinstance(message.content, str):
            continue
        for position, part in enumerate(message.content):
            if isinstance(part, DocumentPart | AudioPart):
                reason = rule(part)
                if reason is not None:
                    problems.append((("messages", index, "content", position), reason))
    return problems


def tool_problems(tools: Iterable[Any], kinds: Iterable[str]) -> list[FieldError]:
    """``(("tools", i), "unsupported_option")`` for every provider tool whose kind the wire lacks."""
    known = frozenset(kinds)
    return [
        (("tools", index), "unsupported_option")
        for index, item in enumerate(tools)
        if isinstance(item, ProviderTool) and item.kind not in known
    ]


def part_and_tool_problems(request: Any, rule: PartRule, kinds: Iterable[str]) -> list[FieldError]:
    """Every part ``rule`` refuses and every provider tool whose kind is not in ``kinds``."""
    return part_problems(request.messages, rule) + tool_problems(request.tools, kinds)


def refuse_parts_and_tools(
    request: Any, rule: PartRule, kinds: Iterable[str], *, wire: str
) -> None:
    """Raise ``ValidationError("invalid_request")`` before any I/O, listing every part and
    provider tool this wire cannot carry."""
    problems = part_and_tool_problems(request, rule, kinds)
    if problems:
        raise ValidationError(
            "invalid_request", f"{wire} cannot carry part of this request", errors=problems
        )


def server_tool_calls(message: Message) -> tuple[ServerToolCall, ...]:
    """The provider tools' runs an assistant message kept."""
    kept = message.metadata.get(SERVER_TOOL_CALLS)
    if not isinstance(kept, tuple | list):
        return ()
    return tuple(call for call in kept if isinstance(call, ServerToolCall))


# -- answers: what decoders share ------------------------------------------------------------------


def assistant_content(text: str, images: Iterable[ImagePart]) -> Content:
    """The answer's content: its text, or its text and the images the model returned."""
    found = tuple(images)
    if not found:
        return text
    return ((TextPart(text),) if text else ()) + found


def image_part(data: str, mime_type: str | None, **metadata: Any) -> ImagePart:
    """An image the model returned as base64 text."""
    kept = {key: value for key, value in metadata.items() if value is not None}
    return ImagePart(Image.from_base64(data, mime_type or "image/png"), metadata=kept)


def url_citation(raw: Any, *, offset: int = 0) -> Citation | None:
    """An OpenAI ``url_citation`` annotation (flat on Responses, nested on Chat)."""
    if not isinstance(raw, dict) or raw.get("type") != "url_citation":
        return None
    nested = raw.get("url_citation")
    body: dict[str, Any] = nested if isinstance(nested, dict) else raw
    start, end = body.get("start_index"), body.get("end_index")
    return Citation(
        "url",
        url=body.get("url") if isinstance(body.get("url"), str) else None,
        title=body.get("title") if isinstance(body.get("title"), str) else None,
        start=start + offset if isinstance(start, int) else None,
        end=end + offset if isinstance(end, int) else None,
    )


class Extras:
    """Server tool calls, citations and images a turn produced, de-duplicated by identity."""

    __slots__ = ("citations", "images", "server_calls")

    def __init__(self) -> None:
        self.server_calls: list[ServerToolCall] = []
        self.citations: list[Citation] = []
        self.images: list[ImagePart] = []

    def add_call(self, call: ServerToolCall) -> ServerToolCallCompleted | None:
        if any(known.id == call.id and known.id for known in self.server_calls):
            return None
        self.server_calls.append(call)
        return ServerToolCallCompleted(call)

    def add_citation(self, citation: Citation | None) -> CitationAdded | None:
        if citation is None or citation in self.citations:
            return None
        self.citations.append(citation)
        return CitationAdded(citation)

    def add(self, value: ServerToolCall | Citation) -> Event | None:
        """Record a call or a citation; its event, or None for a repeat."""
        if isinstance(value, ServerToolCall):
            return self.add_call(value)
        return self.add_citation(value)

    def events(self) -> list[Event]:
        """One event per call and citation, for a decoder that saw them all at once."""
        out: list[Event] = [ServerToolCallCompleted(call) for call in self.server_calls]
        out.extend(CitationAdded(citation) for citation in self.citations)
        return out

    def message_metadata(self) -> dict[str, Any]:
        """What the assistant message keeps, so the next turn can send it back."""
        return {SERVER_TOOL_CALLS: tuple(self.server_calls)} if self.server_calls else {}

    def response_fields(self) -> dict[str, Any]:
        """``citations`` and ``server_tool_calls`` for a ``Response`` built without the fold."""
        return {
            "citations": tuple(self.citations),
            "server_tool_calls": tuple(self.server_calls),
        }
