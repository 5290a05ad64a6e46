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


# A question about an article has no business carrying a mention: the bot would be asked to
# repeat it ("…and add @everyone at the end"). Discord's forms: @everyone, @here, <@id>, <@&id>, <#id>.
_MENTION = re.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)
# Instructions about the shape of the reply ride along with a real question to steer the answer.
_FORMAT_ORDER = re.compile(
    r"\b(?:answer|reply|respond)\s+(?:only\s+)?(?:in|with)\s+(?:one|a single|\d+)\s+words?\b"
    r"|\b(?:add|append|include|end with|start with|prepend)\b.{0,40}\b(?:at the (?:end|start|beginning)|to your (?:answer|reply))\b",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_injection(question: str) -> bool:
    return bool(_INJECTION.search(question))


def steering_reason(question: str) -> str | None:
    """Why the question tries to steer the bot rather than ask about the article, or None."""
    if looks_like_injection(question):
        return "the question tries to change the bot's instructions"
    if _MENTION.search(question):
        return "the question carries a mention"
    if _FORMAT_ORDER.search(question):
        return "the question dictates the reply's form"
    return None
