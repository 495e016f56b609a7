"""Image request building: multipart/form-data bodies, sizes, input images read or measured."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..._json import dumps
from ...data.messages import Image
from ...errors import ValidationError

if TYPE_CHECKING:
    pass
from .errors import _invalid
from .settings import _SIZE


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


def encode_multipart(
    fields: Sequence[tuple[str, Any]], files: Sequence[Upload], boundary: str
) -> bytes:
    """A ``multipart/form-data`` body (RFC 7578): the fields, then the files, in order."""
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


def _quote(name: str) -> str:
    # RFC 7578 §4.2: percent-encode the quote and line breaks in a field or file name.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _size_text(size: Any) -> str | None:
    if size is None:
        return None
    if isinstance(size, tuple) and len(size) == 2:
        return f"{int(size[0])}x{int(size[1])}"
    return str(size)


def _dimensions(size: Any) -> tuple[int | None, int | None]:
    match = _SIZE.match(size) if isinstance(size, str) else None
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _local_size(image: Image) -> int | None:
    kind, value = image.source.type, image.source.value
    if kind == "binary":
        return len(value)
    if kind == "base64":
        return len(str(value)) * 3 // 4
    if kind == "file":
        try:
            return os.path.getsize(str(value))
        except OSError:
            return None
    return None


def _read(image: Image) -> bytes:
    try:
        return image.to_bytes()
    except (OSError, ValidationError) as exc:
        raise _invalid(f"cannot read an input image: {exc}") from exc
