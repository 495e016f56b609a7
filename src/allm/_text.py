"""Text built from many small pieces, in memory proportional to the text, not to the pieces.

A stream of a million one-token deltas kept as a list of strings costs a string object (about 50
bytes) per delta; ``TextBuffer`` joins its pieces every ``BLOCK`` appends, so what stays is the
characters themselves plus one string object per block.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["BLOCK", "TextBuffer"]

BLOCK = 256


class TextBuffer:
    """``append`` pieces, read the whole with ``text()`` (or ``"".join(buffer)``)."""

    __slots__ = ("_blocks", "_pieces")

    def __init__(self, text: str = "") -> None:
        self._blocks: list[str] = [text] if text else []
        self._pieces: list[str] = []

    def append(self, piece: str) -> None:
        """Add ``piece`` at the end."""
        pieces = self._pieces
        pieces.append(piece)
        if len(pieces) >= BLOCK:
            self._blocks.append("".join(pieces))
            pieces.clear()

    def text(self) -> str:
        """Everything appended, as one string (kept, so a second read costs nothing)."""
        blocks = self._blocks
        if self._pieces:
            blocks.append("".join(self._pieces))
            self._pieces.clear()
        if len(blocks) > 1:
            blocks[:] = ["".join(blocks)]
        return blocks[0] if blocks else ""

    def __iter__(self) -> Iterator[str]:
        yield self.text()

    def __bool__(self) -> bool:
        """True once anything was appended (even an empty piece), as a list of pieces is."""
        return bool(self._blocks or self._pieces)

    def __repr__(self) -> str:
        return f"TextBuffer({self.text()!r})"
