"""Bytes from a file, stdin or a download → text, refusing what is not text."""

from __future__ import annotations

import charset_normalizer

from index.errors import IngestError

_SNIFF_BYTES = 8192


def decode_text(data: bytes, what: str) -> str:
    """Decode `data` with its detected encoding; `what` names the input in error messages."""
    if not data.strip():
        raise IngestError(f"{what} is empty: there is no text to index")
    if b"\x00" in data[:_SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{what} looks like a binary file, not text (.txt, .md or .html are accepted)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:1_000_000]).best()
    if best is None:
        raise IngestError(f"{what} looks like a binary file, not text (.txt, .md or .html are accepted)")
    return data.decode(best.encoding, errors="replace")
