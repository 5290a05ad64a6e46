"""A hostile web server against the fetcher: compression bombs, DNS rebinding, slow drips, pages
that name their own source, malformed URLs and addresses that hide a private IPv4."""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from index.errors import IngestError
from index.fetch import _is_public, fetch_url
from index.ingest import document_from_bytes, read_source
from index.ingest_config import IngestConfig

from .conftest import ROOT, Route

LOCAL = IngestConfig(allowed_hosts=("127.0.0.1",), max_bytes=2_000_000)
STORY = (
    b"<html><head><title>Story</title></head><body><article><p>"
    + b"A calm sentence here. " * 40
    + b"</p></article></body></html>"
)


def _gzip_of_zeros(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * 1_000_000
    return b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()


def test_compression_bomb_is_refused_with_bounded_memory(site):
    site.routes["/bomb"] = Route(
        content_type="text/plain", body=_gzip_of_zeros(500), headers={"Content-Encoding": "gzip"}
    )
    site.routes["/double"] = Route(
        content_type="text/plain",
        body=gzip.compress(gzip.compress(b"\0" * 50_000_000)),
        headers={"Content-Encoding": "gzip, gzip"},
    )
    # In a fresh process, so its peak memory is the fetch's alone.
    script = (
        "import resource, sys\n"
        "from index.fetch import fetch_url\nfrom index.errors import IngestError\nfrom index.ingest_config import IngestConfig\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    fetch_url(sys.argv[1], IngestConfig(allowed_hosts=('127.0.0.1',), max_bytes=2_000_000))\n"
        "except IngestError as exc:\n    print(exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, site.url("/bomb")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    message, grown_mb = done.stdout.strip().splitlines()
    assert "larger than the limit of 2,000,000 bytes" in message and int(grown_mb) < 100, done.stdout + done.stderr
    with pytest.raises(IngestError, match="only gzip or deflate"):
        fetch_url(site.url("/double"), LOCAL)


def test_a_compressed_page_within_the_cap_is_read(site):
    site.routes["/gz"] = Route(body=gzip.compress(STORY), headers={"Content-Encoding": "gzip"})
    assert "A calm sentence here." in read_source(site.url("/gz"), LOCAL).text


def test_dns_rebinding_never_reaches_the_private_address(site, monkeypatch):
    """The name answers a public address to the check and 127.0.0.1 to any later lookup."""
    site.routes["/secret"] = Route(body=STORY)
    port = int(site.base.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = iter(["8.8.8.8"])

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(IngestError):
        fetch_url(f"http://rebind.example:{port}/secret", IngestConfig(url_timeout_s=1, fetch_deadline_s=3))
    assert "/secret" not in site.requested


def test_a_slow_drip_is_cut_off_by_the_fetch_deadline(site):
    site.routes["/drip"] = Route(content_type="text/plain", body=b"x" * 200, drip_s=0.1)
    began = time.monotonic()
    with pytest.raises(IngestError, match="fetch_deadline_s"):
        fetch_url(site.url("/drip"), IngestConfig(allowed_hosts=("127.0.0.1",), url_timeout_s=1, fetch_deadline_s=1))
    assert time.monotonic() - began < 3  # the drip alone would take 20 s


def test_a_page_never_names_its_own_source(site):
    page = STORY.replace(b"<title>", b'<link rel="canonical" href="http://169.254.169.254/evil"><title>')
    uploaded = document_from_bytes(page, LOCAL, what="upload.html", name="upload.html")
    assert uploaded.source_url is None
    site.routes["/page"] = Route(body=page)
    assert read_source(site.url("/page"), LOCAL).source_url == site.url("/page")


def test_the_declared_charset_is_used(site):
    text = "<html><body><article><p>" + "Café crème à la française, déjà vu. " * 20 + "</p></article></body></html>"
    site.routes["/latin"] = Route(content_type="text/html; charset=ISO-8859-1", body=text.encode("latin-1"))
    assert "Café crème à la française" in read_source(site.url("/latin"), LOCAL).text


@pytest.mark.parametrize("url", ["http://example.org:99999/", "http://example.org:0/", "http://example.org:x/"])
def test_a_bad_port_is_one_clear_error(url):
    with pytest.raises(IngestError, match="invalid port"):
        fetch_url(url, IngestConfig())


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1", "::ffff:10.0.0.1", "2001:0:4136:e378:8000:63bf:80ff:fffe"],
)
def test_ipv6_forms_of_private_ipv4_are_not_public(address):
    assert not _is_public(address)


def test_public_addresses_stay_public():
    assert _is_public("93.184.216.34") and _is_public("2606:2800:220:1:248:1893:25c8:1946")


def test_console_url_with_a_bad_port_exits_with_one_line(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path / "data"}"\n')
    exe = Path(sys.executable).parent / "articlebot"
    done = subprocess.run(
        [exe, "--config", str(config), "index", "add", "http://example.org:99999/"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "invalid port" in done.stderr
