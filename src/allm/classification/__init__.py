"""Classification: ``classify(engine, input, labels=None, question=None, **opts)`` and
``aclassify``, one chat-model call with a typed output (``allm.output``), not an adapter kind.

With ``labels``, the typed output's ``label`` is an enum of them and ``scores`` holds a confidence
in [0, 1] per label; the confidences are normalized to sum to 1 (uniform when the model gave all
zeros). With only a ``question``, the labels are ``"yes"`` and ``"no"``. ``score=True`` adds a
rating in [0, 1] as ``scores["score"]`` (outside the normalized sum). An answer that does not
validate is re-asked ``output_retries`` times like any typed output; a call that still fails
raises (the ``OutputValidationError``, or the ``AdapterError`` of a failed request).

Keywords of its own: ``score`` and ``output_mode`` (``"auto"``, ``"native"``, ``"tool"``,
``"prompted"``); everything else is a ``generate`` keyword (``model``, ``temperature``,
``output_retries``, ``streaming``, call control...), except ``response_format`` and ``tools``,
which classification sets itself. See ``docs/design/surfaces.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import telemetry
from ..data.classification import Classification
from ..data.messages import Image, ImagePart, Message, Role, TextPart
from ..data.output import OUTPUT_MODES
from ..data.response import Response
from ..errors import AllmError, FieldError, OutputValidationError, ValidationError
from ..execution.api import agenerate, generate, unwrap
from ..execution.runner import request_id_from, span_metadata
from ..output import OutputSpec, output

__all__ = ["SCORE_KEY", "YES_NO", "aclassify", "classify"]

YES_NO = ("yes", "no")
SCORE_KEY = "score"
_SET_HERE = ("response_format", "tools", "tool_choice")


@dataclass(frozen=True, slots=True)
class _Task:
    """A checked classification: what is sent and how the answer is read."""

    labels: tuple[str, ...]
    score: bool
    messages: tuple[Message, ...]
    spec: OutputSpec

    def result(self, response: Response) -> Classification:
        """The classification in ``response``, or raise what the call failed with."""
        parsed = response.parsed
        if not isinstance(parsed, Mapping):
            error = response.error
            if isinstance(error, AllmError):
                raise error
            unwrap(response)  # a non-stop finish raises here
            raise OutputValidationError(
                message="the model gave no classification", raw_text=response.text or ""
            )
        scores = _normalized(self.labels, parsed["scores"])
        if self.score:
            scores[SCORE_KEY] = float(parsed[SCORE_KEY])
        return Classification(str(parsed["label"]), scores, response)


def _normalized(labels: tuple[str, ...], given: Mapping[str, Any]) -> dict[str, float]:
    values = [max(0.0, float(given.get(label, 0.0))) for label in labels]
    total = sum(values)
    if total <= 0:
        return {label: 1.0 / len(labels) for label in labels}
    return {label: value / total for label, value in zip(labels, values, strict=True)}


def _check_labels(
    labels: Any, score: Any, errors: list[FieldError]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The labels in order and their descriptions (from a mapping of label to description)."""
    descriptions: dict[str, str] = {}
    if isinstance(labels, Mapping):
        items = list(labels)
        for key, value in labels.items():
            if not isinstance(value, str):
                errors.append((("labels", str(key)), "description_not_a_string"))
            elif value and isinstance(key, str):
                descriptions[key] = value
    elif isinstance(labels, Sequence) and not isinstance(labels, str | bytes | bytearray):
        items = list(labels)
    else:
        errors.append((("labels",), "not_a_list"))
        return (), descriptions
    if not items:
        errors.append((("labels",), "empty"))
    elif len(items) == 1:
        errors.append((("labels",), "fewer_than_two"))
    seen: set[str] = set()
    for index, label in enumerate(items):
        path: tuple[str | int, ...] = ("labels", index)
        if not isinstance(label, str):
            errors.append((path, "not_a_string"))
        elif not label.strip():
            errors.append((path, "empty"))
        elif label in seen:
            errors.append((path, "duplicate"))
        elif label == SCORE_KEY and score is True:
            errors.append((path, "reserved_with_score"))
        else:
            seen.add(label)
    return tuple(item for item in items if isinstance(item, str)), descriptions


def _content(value: Any, errors: list[FieldError]) -> Message | None:
    """The user message carrying the input: text, a ``Message``, a part, or a list of parts."""
    if isinstance(value, Message):
        if value.role is not Role.USER:
            errors.append((("input", "role"), "not_user"))
        return value
    items = [value] if isinstance(value, str | TextPart | ImagePart | Image) else value
    if not isinstance(items, Sequence) or isinstance(items, bytes | bytearray) or not items:
        errors.append((("input",), "not_text_message_or_parts"))
        return None
    parts: list[TextPart | ImagePart] = []
    for index, item in enumerate(items):
        path: tuple[str | int, ...] = ("input",) if items is not value else ("input", index)
        part = TextPart(item) if isinstance(item, str) else item
        part = ImagePart(part) if isinstance(part, Image) else part
        if not isinstance(part, TextPart | ImagePart):
            errors.append((path, "not_text_or_image"))
        elif isinstance(part, TextPart) and not part.text.strip():
            errors.append((path, "empty"))
        else:
            parts.append(part)
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return Message(Role.USER, parts[0].text)
    return Message(Role.USER, tuple(parts))


def _schema(labels: tuple[str, ...], question: str | None, score: bool) -> dict[str, Any]:
    confidence = {"type": "number", "minimum": 0, "maximum": 1}
    properties: dict[str, Any] = {
        "label": {
            "type": "string",
            "enum": list(labels),
            "description": "the answer" if question and labels == YES_NO else "the chosen label",
        },
        "scores": {
            "type": "object",
            "description": "your confidence, from 0 to 1, in each label",
            "properties": {label: dict(confidence) for label in labels},
            "required": list(labels),
            "additionalProperties": False,
        },
    }
    if score:
        properties[SCORE_KEY] = {
            **confidence,
            "description": "the rating asked for, from 0 (not at all) to 1 (fully)",
        }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _instructions(
    labels: tuple[str, ...], descriptions: Mapping[str, str], question: str | None, score: bool
) -> str:
    yes_no = labels == YES_NO and question is not None and not descriptions
    if yes_no:
        lines = [f"Answer this question about the input with yes or no: {question}"]
    else:
        lines = ["Classify the input with exactly one of these labels:"]
        for label in labels:
            about = descriptions.get(label)
            lines.append(f"- {json.dumps(label)}" + (f": {about}" if about else ""))
        if question:
            lines.append(f"The question to decide by: {question}")
    lines.append(
        "In `label` give your answer; in `scores` give, for every "
        + ("answer" if yes_no else "label")
        + ", your confidence from 0 to 1 that it is right."
    )
    if score:
        what = "how fully the answer is yes" if yes_no else "how strongly the input fits the label"
        lines.append(f"In `score` rate {what}, from 0 (not at all) to 1 (fully).")
    return "\n".join(lines)


def _task(input: Any, labels: Any, question: Any, opts: dict[str, Any]) -> _Task:
    """Check every argument (listing every problem) before any I/O."""
    errors: list[FieldError] = []
    score = opts.pop("score", False)
    mode = opts.pop("output_mode", "auto")
    if not isinstance(score, bool):
        errors.append((("score",), "not_a_bool"))
    if mode not in OUTPUT_MODES:
        errors.append((("output_mode",), "unknown"))
    if question is not None and (not isinstance(question, str) or not question.strip()):
        errors.append((("question",), "not_a_non_empty_string"))
    descriptions: dict[str, str] = {}
    if labels is None:
        if question is None:
            errors.append((("labels",), "labels_or_question_required"))
        chosen: tuple[str, ...] = YES_NO
    else:
        chosen, descriptions = _check_labels(labels, score, errors)
    errors.extend(((key,), "set_by_classify") for key in _SET_HERE if key in opts)
    message = _content(input, errors)
    if errors:
        raise ValidationError(
            "invalid_request", f"cannot classify: {len(errors)} problem(s)", errors=errors
        )
    assert message is not None
    text = _instructions(chosen, descriptions, question, score is True)
    spec = output(_schema(chosen, question, score is True), name="classification", mode=mode)
    return _Task(chosen, score is True, (Message(Role.SYSTEM, text), message), spec)


def _span(engine: Any, task: _Task, opts: dict[str, Any]) -> telemetry.Span:
    opts["request_id"] = request_id = request_id_from(opts)
    metadata = span_metadata(engine, None, opts, request_id)
    metadata["labels"] = task.labels
    return telemetry.span("classify", metadata)


def classify(
    engine: Any, input: Any, labels: Any = None, question: str | None = None, **opts: Any
) -> Classification:
    """Classify ``input`` (text, a ``Message``, a part or a list of parts, images too) into one
    of ``labels``, or answer ``question`` with ``"yes"`` / ``"no"``."""
    task = _task(input, labels, question, opts)
    with _span(engine, task, opts) as span:
        response = generate(engine, list(task.messages), response_format=task.spec, **opts)
        span.stop_metadata["response"] = response
        result = task.result(response)
        span.stop_metadata.update(classification=result, label=result.label)
    return result


async def aclassify(
    engine: Any, input: Any, labels: Any = None, question: str | None = None, **opts: Any
) -> Classification:
    """The async twin of ``classify``."""
    task = _task(input, labels, question, opts)
    with _span(engine, task, opts) as span:
        response = await agenerate(engine, list(task.messages), response_format=task.spec, **opts)
        span.stop_metadata["response"] = response
        result = task.result(response)
        span.stop_metadata.update(classification=result, label=result.label)
    return result
