"""``multipart/form-data`` bodies (RFC 7578), built as bytes: the upload wire of OpenAI's image
edits and audio transcriptions. Adapters describe a request; they never hand files to httpx."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._json import dumps

__all__ = ["Upload", "encode_multipart", "multipart_body"]


@dataclass(frozen=True, slots=True)
class Upload:
    """One file part of a multipart body."""

    name: str
    filename: str
    content_type: str
    data: bytes


def _field_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return dumps(value)


def _quote(name: str) -> str:
    # RFC 7578 §4.2: percent-encode the quote and line breaks in a field or file name.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(
    fields: Sequence[tuple[str, Any]], files: Sequence[Upload], boundary: str
) -> bytes:
    """A ``multipart/form-data`` body: the fields, then the files, in order. A field may repeat
    (``timestamp_granularities[]`` twice, say); non-string values are rendered as JSON."""
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
        out += _field_value(value).encode("utf-8")
        out += b"\r\n"
    for upload in files:
        out += f"--{boundary}\r\n".encode()
        out += (
            f'Content-Disposition: form-data; name="{_quote(upload.name)}"; '
            f'filename="{_quote(upload.filename)}"\r\n'
        ).encode()
        out += f"Content-Type: {upload.content_type}\r\n\r\n".encode()
        out += upload.data
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def multipart_body(fields: Sequence[tuple[str, Any]], files: Sequence[Upload]) -> tuple[str, bytes]:
    """``(content-type header, body)`` with a fresh random boundary."""
    boundary = "allm-" + os.urandom(12).hex()
    return f"multipart/form-data; boundary={boundary}", encode_multipart(fields, files, boundary)
