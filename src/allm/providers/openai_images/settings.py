"""OpenAI image endpoints, limits and the per-model rules checked before any byte is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATIONS = frozenset({"generate", "edit", "variation"})
_PATHS = {
    "generate": "/images/generations",
    "edit": "/images/edits",
    "variation": "/images/variations",
}
DEFAULT_TIMEOUT = 300.0  # image generation is slow: GPT image models can take minutes
DOWNLOAD_TIMEOUT = 30.0
DOWNLOAD_MAX_BYTES = 25 * 1024 * 1024
DOWNLOAD_MAX_REDIRECTS = 5
_MB = 1024 * 1024
_PNG = frozenset({"image/png"})
_GPT_INPUTS = frozenset({"image/png", "image/jpeg", "image/webp"})
_ALL_FORMATS = frozenset({"binary", "base64", "url"})
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_OUTPUT_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}
_SIZE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class ModelRule:
    """What one model family accepts."""

    family: str
    operations: frozenset[str]
    response_formats: frozenset[str]
    max_n: int | None = None
    input_types: frozenset[str] | None = None
    max_input_bytes: int | None = None
    max_inputs: int | None = None


_DALL_E_2 = ModelRule(
    "dall-e-2", OPERATIONS, _ALL_FORMATS, max_n=10, input_types=_PNG, max_input_bytes=4 * _MB,
    max_inputs=1,
)  # fmt: skip
_DALL_E_3 = ModelRule("dall-e-3", frozenset({"generate"}), _ALL_FORMATS, max_n=1)
_GPT_IMAGE = ModelRule(
    "gpt-image",
    frozenset({"generate", "edit"}),
    frozenset({"binary", "base64"}),
    max_n=10,
    input_types=_GPT_INPUTS,
    max_input_bytes=50 * _MB,
    max_inputs=16,
)


def model_rule(model: str | None) -> ModelRule | None:
    """The rules for ``model``, or None for a model this adapter does not know."""
    if not model:
        return None
    if model == "dall-e-2" or model.startswith("dall-e-2-"):
        return _DALL_E_2
    if model == "dall-e-3" or model.startswith("dall-e-3-"):
        return _DALL_E_3
    if model.startswith(("gpt-image-", "chatgpt-image-")):
        return _GPT_IMAGE
    return None
