"""Download an article page over http(s), refusing addresses and content a bot must not fetch."""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from index.errors import IngestError
from index.ingest_config import IngestConfig

log = logging.getLogger(__name__)

ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown")
_USER_AGENT = "articlebot/0.1 (+https://github.com/articlebot)"


@dataclass(frozen=True)
class Download:
    url: str  # the final URL, after redirects
    content_type: str
    body: bytes


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url_allowed(url: str, config: IngestConfig) -> None:
    """Refuse non-http(s) URLs and hosts resolving to loopback, private, link-local or metadata IPs."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise IngestError(f"only http and https URLs can be added, not {parts.scheme or 'a bare path'!r}")
    host = parts.hostname
    if not host:
        raise IngestError(f"{url!r} has no host name")
    if host in config.allowed_hosts:
        return
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise IngestError(f"could not reach {host}: the name does not resolve ({exc})") from None
    for info in infos:
        address = str(info[4][0])
        if not _is_public(address):
            raise IngestError(
                f"refusing to fetch {host}: it resolves to the non-public address {address} "
                "(add the host to ingest.allowed_hosts to allow it)"
            )


def _read_capped(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise IngestError(f"the page is {int(declared):,} bytes; the limit is {limit:,} (ingest.max_bytes)")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise IngestError(f"the page is larger than the limit of {limit:,} bytes (ingest.max_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_url(url: str, config: IngestConfig) -> Download:
    """GET `url` following at most `max_redirects` redirects, each target checked again."""
    timeout = httpx.Timeout(config.url_timeout_s)
    with httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": _USER_AGENT}) as client:
        for _ in range(config.max_redirects + 1):
            check_url_allowed(url, config)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        log.info("redirected to %s", url)
                        continue
                    if response.status_code >= 400:
                        raise IngestError(f"{url} answered HTTP {response.status_code}; nothing was added")
                    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if content_type not in ACCEPTED_TYPES:
                        raise IngestError(
                            f"{url} is {content_type or 'of no declared type'}; only HTML, plain text "
                            "and Markdown pages can be added"
                        )
                    return Download(
                        url=str(response.url), content_type=content_type, body=_read_capped(response, config.max_bytes)
                    )
            except httpx.TimeoutException:
                raise IngestError(f"{url} did not answer within {config.url_timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                raise IngestError(f"could not fetch {url}: {exc.__class__.__name__}: {exc}") from None
    raise IngestError(f"{url}: more than {config.max_redirects} redirects (ingest.max_redirects)")
