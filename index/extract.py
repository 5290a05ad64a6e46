"""Pull the article's main text and metadata out of HTML, Markdown or plain text."""

from __future__ import annotations

import re
from typing import Literal

import trafilatura
from markdown_it import MarkdownIt
from markdown_it.token import Token
from trafilatura.settings import Document as TrafilaturaDocument

from index.errors import IngestError
from index.models import Document

Format = Literal["html", "markdown", "text"]

_HTML_SNIFF = re.compile(r"^\s*(<!doctype html|<html|<head|<body|<article|<p[\s>])", re.IGNORECASE)
# CommonMark, with raw HTML passed through as text (it is never rendered, only read).
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


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
    """The page's own claims (`<link rel=canonical>`, og:url) never become its source: only a
    fetch sets the source URL, which `/article reindex` fetches again."""
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
    return Document(text=text, title=doc.title or None, source_url=url, published=doc.date or None)


def _inline_text(token: Token) -> str:
    """The words of an inline token: link and image text kept, markup and URLs dropped."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return "".join(parts)


def _from_markdown(md: str, url: str | None) -> Document:
    """Markdown → paragraphs of plain text; a heading before any text is the title."""
    blocks: list[str] = []
    title = None
    tokens = _MARKDOWN.parse(md)
    for i, token in enumerate(tokens):
        if token.type == "inline":
            text = _inline_text(token).strip()
            heading = i > 0 and tokens[i - 1].type == "heading_open"
            if heading and title is None and not blocks:
                title = text or None  # the title is metadata, not a passage
            elif text:
                blocks.append(text)
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(token.content.strip())
    return Document(text="\n\n".join(blocks), title=title, source_url=url)


def extract_document(text: str, fmt: Format, url: str | None = None) -> Document:
    if fmt == "html":
        return _from_html(text, url)
    if fmt == "markdown":
        return _from_markdown(text, url)
    return Document(text=text, source_url=url)
