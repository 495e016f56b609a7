"""Small JSON helpers shared by every provider's wire code: a value of the expected JSON type, or
an empty/absent one, so decoders read untrusted bodies without ``isinstance`` ladders; and the
ISO-639-1 code of a language name as some providers report it (Whisper's ``"english"``)."""

from __future__ import annotations

from typing import Any

from .._json import loads_wire

__all__ = [
    "as_dict",
    "as_int",
    "as_list",
    "as_str",
    "decode_json",
    "is_set",
    "language_code",
    "parse_tool_arguments",
    "refuse_unsupported",
]

decode_json = loads_wire  # orjson when installed, else the scanner-direct stdlib parser


def parse_tool_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """A tool call's streamed argument text parsed, and why it is not a JSON object (or None);
    empty text is no arguments."""
    if not raw.strip():
        return {}, None
    import json

    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"invalid JSON arguments: {exc}"
    if not isinstance(value, dict):
        return {}, "tool arguments are not a JSON object"
    return value, None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_CODES = {
    "afrikaans": "af", "albanian": "sq", "amharic": "am", "arabic": "ar", "armenian": "hy",
    "assamese": "as", "azerbaijani": "az", "bashkir": "ba", "basque": "eu", "belarusian": "be",
    "bengali": "bn", "bosnian": "bs", "breton": "br", "bulgarian": "bg", "burmese": "my",
    "cantonese": "yue", "catalan": "ca", "chinese": "zh", "croatian": "hr", "czech": "cs",
    "danish": "da", "dutch": "nl", "english": "en", "estonian": "et", "faroese": "fo",
    "finnish": "fi", "french": "fr", "galician": "gl", "georgian": "ka", "german": "de",
    "greek": "el", "gujarati": "gu", "haitian creole": "ht", "hausa": "ha", "hawaiian": "haw",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is", "indonesian": "id",
    "italian": "it", "japanese": "ja", "javanese": "jw", "kannada": "kn", "kazakh": "kk",
    "khmer": "km", "korean": "ko", "lao": "lo", "latin": "la", "latvian": "lv", "lingala": "ln",
    "lithuanian": "lt", "luxembourgish": "lb", "macedonian": "mk", "malagasy": "mg",
    "malay": "ms", "malayalam": "ml", "maltese": "mt", "maori": "mi", "marathi": "mr",
    "mongolian": "mn", "myanmar": "my", "nepali": "ne", "norwegian": "no", "nynorsk": "nn",
    "occitan": "oc", "pashto": "ps", "persian": "fa", "polish": "pl", "portuguese": "pt",
    "punjabi": "pa", "romanian": "ro", "russian": "ru", "sanskrit": "sa", "serbian": "sr",
    "shona": "sn", "sindhi": "sd", "sinhala": "si", "slovak": "sk", "slovenian": "sl",
    "somali": "so", "spanish": "es", "sundanese": "su", "swahili": "sw", "swedish": "sv",
    "tagalog": "tl", "tajik": "tg", "tamil": "ta", "tatar": "tt", "telugu": "te", "thai": "th",
    "tibetan": "bo", "turkish": "tr", "turkmen": "tk", "ukrainian": "uk", "urdu": "ur",
    "uzbek": "uz", "vietnamese": "vi", "welsh": "cy", "yiddish": "yi", "yoruba": "yo",
}  # fmt: skip


def language_code(name: str) -> str:
    """``"en"`` for ``"english"`` (or ``"en"``, ``"EN"``); an unknown name comes back lower-cased."""
    lowered = name.strip().lower()
    return _CODES.get(lowered, lowered)


def is_set(request: Any, name: str) -> bool:
    """Whether the neutral field ``name`` asks for something (``logprobs=False`` asks nothing)."""
    value = getattr(request, name, None)
    return value not in (None, ()) and not (name == "logprobs" and value is False)


def unsupported_fields(request: Any, names: tuple[str, ...]) -> list[Any]:
    """``((field,), "unsupported_option")`` for each neutral field of ``names`` set on
    ``request``."""
    return [((name,), "unsupported_option") for name in names if is_set(request, name)]


def refuse_unsupported(request: Any, unsupported: tuple[str, ...]) -> None:
    """Raise before any I/O for each neutral field set on ``request`` that this wire cannot
    express: ``ValidationError("invalid_request")`` with ``((field,), "unsupported_option")``."""
    from ..errors import ValidationError

    problems = unsupported_fields(request, unsupported)
    if problems:
        raise ValidationError("invalid_request", errors=problems)
