"""Any article source (path, URL, stdin, pasted text or bytes) → a cleaned Document, or IngestError."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import BinaryIO

from index.clean import clean_text
from index.decode import decode_text
from index.errors import IngestError
from index.extract import detect_format, extract_document
from index.fetch import fetch_url
from index.ingest_config import IngestConfig
from index.models import Document
from index.text import count_words


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://", "ftp://", "file://"))


def document_from_bytes(
    data: bytes,
    config: IngestConfig,
    *,
    what: str,
    name: str = "",
    content_type: str = "",
    url: str | None = None,
    charset: str | None = None,
) -> Document:
    if len(data) > config.max_bytes:
        raise IngestError(f"{what} is {len(data):,} bytes; the limit is {config.max_bytes:,} (ingest.max_bytes)")
    text = decode_text(data, what, charset)
    return document_from_text(text, config, what=what, name=name, content_type=content_type, url=url)


def document_from_text(
    text: str,
    config: IngestConfig,
    *,
    what: str = "the text",
    name: str = "",
    content_type: str = "",
    url: str | None = None,
) -> Document:
    if not text.strip():
        raise IngestError(f"{what} is empty: there is no text to index")
    if len(text.encode("utf-8", errors="ignore")) > config.max_bytes:
        raise IngestError(f"{what} is larger than {config.max_bytes:,} bytes (ingest.max_bytes)")
    doc = extract_document(text, detect_format(text, name, content_type), url)
    cleaned = clean_text(doc.text)
    if not cleaned:
        raise IngestError(f"{what} has no article text left after removing page furniture")
    words = count_words(cleaned)
    if words > config.max_words:
        raise IngestError(f"{what} has {words:,} words; the limit is {config.max_words:,} (ingest.max_words)")
    title = clean_text(doc.title) if doc.title else None
    return dataclasses.replace(doc, text=cleaned, title=title or None)


def read_file(path: Path, config: IngestConfig) -> Document:
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if not path.is_file():
        raise IngestError(f"{path} is not a regular file")
    size = path.stat().st_size
    if size > config.max_bytes:
        raise IngestError(f"{path} is {size:,} bytes; the limit is {config.max_bytes:,} (ingest.max_bytes)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read it ({exc.strerror})") from None
    return document_from_bytes(data, config, what=str(path), name=path.name)


def read_stream(stream: BinaryIO, config: IngestConfig, what: str = "standard input") -> Document:
    data = stream.read(config.max_bytes + 1)
    return document_from_bytes(data, config, what=what)


def read_url(url: str, config: IngestConfig) -> Document:
    download = fetch_url(url, config)
    return document_from_bytes(
        download.body,
        config,
        what=download.url,
        content_type=download.content_type,
        url=download.url,
        charset=download.charset,
    )


def read_source(source: str, config: IngestConfig, stdin: BinaryIO | None = None) -> Document:
    """`source` is '-' (read `stdin`), an http(s) URL or a file path."""
    if source == "-":
        if stdin is None:
            raise IngestError("no standard input to read")
        return read_stream(stdin, config)
    if is_url(source):
        return read_url(source, config)
    return read_file(Path(source), config)
