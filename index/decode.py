"""Bytes from a file, stdin or a download → text, refusing what is not text."""

from __future__ import annotations

import codecs

import charset_normalizer

from index.errors import IngestError

_SNIFF_BYTES = 8192


def decode_text(data: bytes, what: str, declared: str | None = None) -> str:
    """Decode `data` with the charset its server `declared`, else its detected encoding; `what`
    names the input in error messages."""
    if not data.strip():
        raise IngestError(f"{what} is empty: there is no text to index")
    if b"\x00" in data[:_SNIFF_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(f"{what} looks like a binary file, not text (.txt, .md or .html are accepted)")
    for encoding in ([declared] if declared else []) + ["utf-8-sig"]:
        try:
            return data.decode("utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding)
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong or unknown declaration: fall back to detection
    best = charset_normalizer.from_bytes(data[:1_000_000]).best()
    if best is None:
        raise IngestError(f"{what} looks like a binary file, not text (.txt, .md or .html are accepted)")
    return data.decode(best.encoding, errors="replace")
