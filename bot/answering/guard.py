"""Questions that try to steer the bot instead of asking about the article.

Defence in depth: the prompt fences article text as data and the citation check drops anything
the passages do not support; this catches the blunt attempts before they cost an LLM call.
"""

from __future__ import annotations

import re

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules?|prompts?|guidelines|above|previous)\b"
    r"|\b(?:system|hidden|initial|original)\s+(?:prompt|instructions?|message)\b"
    r"|\byou\s+are\s+now\b|\bact\s+as\b|\bpretend\s+(?:to\s+be|you)\b|\bjailbreak\b|\bdeveloper\s+mode\b"
    r"|\b(?:print|reveal|show|repeat|output)\b.{0,30}\b(?:prompt|instructions|rules)\b",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_injection(question: str) -> bool:
    return bool(_INJECTION.search(question))
