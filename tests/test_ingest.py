from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from index.errors import IngestError
from index.ingest import document_from_text, read_source
from index.ingest_config import IngestConfig

from .conftest import Route

HTML = b"""<!doctype html><html><head><title>Storm hits the coast</title>
<meta property="article:published_time" content="2024-03-18"></head><body>
<nav>Home | World | Sport</nav>
<article><h1>Storm hits the coast</h1>
<p>A powerful storm hit the northern coast on Monday, flooding hundreds of homes and cutting power to thousands of residents in the region.</p>
<p>Officials said the river rose by three metres overnight, the highest level recorded since the great flood of 1953.</p>
<p>Share</p>
</article><footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"""

CFG = IngestConfig(allowed_hosts=("127.0.0.1",))


def test_plain_text_keeps_paragraphs():
    doc = document_from_text("First paragraph here.\n\nSecond   paragraph here.\n", CFG)
    assert doc.text == "First paragraph here.\n\nSecond paragraph here."
    assert doc.title is None


def test_html_main_text_and_metadata(tmp_path: Path):
    path = tmp_path / "storm.html"
    path.write_bytes(HTML)
    doc = read_source(str(path), CFG)
    assert doc.title == "Storm hits the coast"
    assert doc.published == "2024-03-18"
    assert "flooding hundreds of homes" in doc.text
    assert "\n\n" in doc.text
    assert "Home | World" not in doc.text and "Copyright" not in doc.text
    assert not doc.text.endswith("Share")


def test_markdown_title_and_markup(tmp_path: Path):
    path = tmp_path / "note.md"
    path.write_text("# Council votes\n\nThe **council** voted [yes](http://x) on _Tuesday_.\n\n- a list item\n")
    doc = read_source(str(path), CFG)
    assert doc.title == "Council votes"
    assert doc.text == "The council voted yes on Tuesday.\n\na list item"


def test_stdin_and_legacy_encoding():
    text = "Le café de la gare a fermé ses portes après trente ans de service dans le quartier."
    doc = read_source("-", CFG, stdin=io.BytesIO(text.encode("cp1252")))
    assert doc.text == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\t  \n", "empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4, "binary"),
        (b"Share\nTweet\n", "no article text"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, data: bytes, message: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError, match=message):
        read_source(str(path), CFG)


def test_missing_file_and_size_caps(tmp_path: Path):
    with pytest.raises(IngestError, match="no such file"):
        read_source(str(tmp_path / "nope.txt"), CFG)
    big = tmp_path / "big.txt"
    big.write_text("word " * 3000)
    with pytest.raises(IngestError, match=re.escape("ingest.max_bytes")):
        read_source(str(big), IngestConfig(max_bytes=10_000))
    with pytest.raises(IngestError, match=re.escape("ingest.max_words")):
        read_source(str(big), IngestConfig(max_words=1000))


def test_url_fetch(site):
    site.routes["/story"] = Route(body=HTML)
    doc = read_source(site.url("/story"), CFG)
    assert doc.source_url == site.url("/story")
    assert "three metres" in doc.text


def test_url_errors(site):
    site.routes["/pdf"] = Route(content_type="application/pdf", body=b"%PDF-1.4")
    site.routes["/gone"] = Route(status=410, body=b"gone")
    site.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    site.routes["/huge"] = Route(content_type="text/plain", body=b"x " * 20_000)
    with pytest.raises(IngestError, match="application/pdf"):
        read_source(site.url("/pdf"), CFG)
    with pytest.raises(IngestError, match="HTTP 410"):
        read_source(site.url("/gone"), CFG)
    with pytest.raises(IngestError, match="redirects"):
        read_source(site.url("/loop"), CFG)
    with pytest.raises(IngestError, match="limit"):
        read_source(site.url("/huge"), IngestConfig(allowed_hosts=("127.0.0.1",), max_bytes=1000))


def test_url_to_private_addresses_refused(site):
    site.routes["/story"] = Route(body=HTML)
    strict = IngestConfig()
    with pytest.raises(IngestError, match=re.escape("non-public address 127.0.0.1")):
        read_source(site.url("/story"), strict)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://10.0.0.1/", "http://localhost/"):
        with pytest.raises(IngestError, match="non-public"):
            read_source(url, strict)
    with pytest.raises(IngestError, match="only http and https"):
        read_source("file:///etc/passwd", strict)


def test_redirect_to_private_address_refused(site):
    # The first hop is allow-listed as 127.0.0.1; the redirect target "localhost" is not.
    port = site.base.rsplit(":", 1)[1]
    site.routes["/hop"] = Route(status=302, headers={"Location": f"http://localhost:{port}/story"})
    with pytest.raises(IngestError, match="non-public"):
        read_source(site.url("/hop"), CFG)


def test_unreachable_url_is_a_clear_error():
    closed = IngestConfig(allowed_hosts=("127.0.0.1",), url_timeout_s=2)
    with pytest.raises(IngestError, match="could not fetch"):
        read_source("http://127.0.0.1:9/", closed)
