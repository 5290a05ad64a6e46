"""Turn extracted text into the canonical cleaned form that passages and spans refer to.

Cleaned text has paragraphs separated by exactly one blank line, single spaces inside a
paragraph, straight quotes, no mojibake and no share-button or boilerplate lines.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# Lines that are page furniture rather than article text, compared after lower-casing and
# stripping punctuation. The Arabic entry is the "Share:" label the sample article ends with.
_BOILERPLATE_LINES = frozenset(
    {
        "share",
        "share this",
        "share this article",
        "share on facebook",
        "share on twitter",
        "share on x",
        "share on linkedin",
        "share via email",
        "tweet",
        "email",
        "print",
        "advertisement",
        "ad",
        "sponsored",
        "read more",
        "related",
        "related articles",
        "continue reading",
        "click here to subscribe",
        "subscribe",
        "sign up",
        "log in",
        "مشاركة",
        "شارك",
        "partager",
        "teilen",
        "compartir",
    }
)
_MAX_BOILERPLATE_WORDS = 5
_PUNCT_OR_SPACE = re.compile(r"[\W_]+", flags=re.UNICODE)
# A double quote used as an apostrophe, as in the sample's `Russia"s` (a bad re-encoding).
_QUOTE_AS_APOSTROPHE = re.compile(r"""(?<=[^\W\d_])"(?=(?:s|t|re|ve|ll|d|m)\b)""")
_SPACES = re.compile(r"[^\S\n]+")


def _is_boilerplate(line: str) -> bool:
    words = line.split()
    if not words:
        return False
    if len(words) > _MAX_BOILERPLATE_WORDS:
        return False
    key = _PUNCT_OR_SPACE.sub(" ", line.lower()).strip()
    return key == "" or key in _BOILERPLATE_LINES


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks; when a text has no blank lines, each line is a paragraph."""
    if re.search(r"\n[^\S\n]*\n", text):
        blocks = re.split(r"\n[^\S\n]*\n", text)
        return [" ".join(block.split("\n")) for block in blocks]
    return text.split("\n")


def clean_text(raw: str) -> str:
    """Normalise `raw` into cleaned article text (possibly empty)."""
    text = ftfy.fix_text(raw, uncurl_quotes=True, normalization="NFC")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch == "\n" or ch == "\t" or unicodedata.category(ch)[0] != "C")
    text = _QUOTE_AS_APOSTROPHE.sub("'", text)
    kept = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        kept.append("" if _is_boilerplate(line) else line)
    paragraphs = (_SPACES.sub(" ", p).strip() for p in _paragraphs("\n".join(kept)))
    return "\n\n".join(p for p in paragraphs if p)
