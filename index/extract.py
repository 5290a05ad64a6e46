"""Pull the article's main text and metadata out of HTML, Markdown or plain text."""

from __future__ import annotations

import re
from typing import Literal

import trafilatura
from trafilatura.settings import Document as TrafilaturaDocument

from index.errors import IngestError
from index.models import Document

Format = Literal["html", "markdown", "text"]

_HTML_SNIFF = re.compile(r"^\s*(<!doctype html|<html|<head|<body|<article|<p[\s>])", re.IGNORECASE)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE_MARKERS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.MULTILINE)
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.MULTILINE)


def detect_format(text: str, name: str = "", content_type: str = "") -> Format:
    name, content_type = name.lower(), content_type.lower()
    if "html" in content_type or name.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if "markdown" in content_type or name.endswith((".md", ".markdown")):
        return "markdown"
    if _HTML_SNIFF.match(text[:2000]):
        return "html"
    return "text"


def _from_html(html: str, url: str | None) -> Document:
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_recall=True,
    )
    if not isinstance(doc, TrafilaturaDocument):
        raise IngestError("no article text found in that HTML page")
    text = doc.text
    if not text or not text.strip():
        raise IngestError("no article text found in that HTML page")
    # trafilatura puts one paragraph a line; blank lines make the paragraph breaks explicit.
    text = "\n\n".join(line for line in text.split("\n") if line.strip())
    return Document(text=text, title=doc.title or None, source_url=url or doc.url or None, published=doc.date or None)


def _from_markdown(md: str, url: str | None) -> Document:
    heading = _MD_HEADING.search(md)
    title = _MD_LINK.sub(r"\1", heading.group(1)) if heading else None
    if heading and not md[: heading.start()].strip():
        md = md[heading.end() :]  # the title is metadata, not a passage
    text = _MD_RULE.sub("", md)
    text = _MD_LINE_MARKERS.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return Document(text=text, title=title, source_url=url)


def extract_document(text: str, fmt: Format, url: str | None = None) -> Document:
    if fmt == "html":
        return _from_html(text, url)
    if fmt == "markdown":
        return _from_markdown(text, url)
    return Document(text=text, source_url=url)
