"""Download an article page over http(s), refusing addresses and content a bot must not fetch.

Each hop of a fetch resolves its host once, checks every address, and connects to the checked
address itself (the URL carries the IP; the Host header and TLS server name carry the host
name), so a name that answers a public address to the check and a private one to the
connection (DNS rebinding) reaches nothing. Bodies are decoded here, chunk by chunk under the
byte cap, so a small compressed body cannot inflate past it; a whole fetch has one deadline.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
import zlib
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import httpx

from index.errors import IngestError
from index.ingest_config import IngestConfig

log = logging.getLogger(__name__)

ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown")
_USER_AGENT = "articlebot/0.1 (+https://github.com/articlebot)"
# The encodings we decode ourselves, under the byte cap; anything else is refused.
_ACCEPT_ENCODING = "gzip, deflate"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


# What a news feed may be served as (feeds are often sent as plain XML or even text/html).
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
    "text/html",
    "text/plain",
)


@dataclass(frozen=True)
class Download:
    url: str  # the final URL, after redirects
    content_type: str
    body: bytes
    charset: str | None = None  # as the server declared it, if it did
    not_modified: bool = False  # 304 to a conditional request: no body, keep what you have
    etag: str | None = None
    last_modified: str | None = None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, NAT64, Teredo, IPv4-compatible)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):  # :: and ::1 are not IPv4
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_public(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        ip = inner
    return ip.is_global and not ip.is_multicast


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        return 443 if parts.scheme == "https" else 80
    if not 0 < port < 65536:
        raise IngestError(f"{urlunsplit(parts)!r} has an invalid port: use 1 to 65535")
    return port


def resolve_checked(url: str, config: IngestConfig) -> str:
    """The address to connect to for `url`: its host resolved once, every address checked.
    Refuses non-http(s) URLs and hosts resolving to loopback, private, link-local or metadata IPs."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise IngestError(f"only http and https URLs can be added, not {parts.scheme or 'a bare path'!r}")
    host = parts.hostname
    if not host:
        raise IngestError(f"{url!r} has no host name")
    port = _port(parts)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise IngestError(f"could not reach {host}: the name does not resolve ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise IngestError(f"could not reach {host}: the name has no address")
    if host not in config.allowed_hosts:
        for address in addresses:
            if not _is_public(address):
                raise IngestError(
                    f"refusing to fetch {host}: it resolves to the non-public address {address} "
                    "(add the host to ingest.allowed_hosts to allow it)"
                )
    return addresses[0]


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL with the host replaced by `address`, headers, request extensions)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    host_header = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        host_header += f":{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


class _Body:
    """Collects a body's decoded bytes, refusing it once they pass `limit` — before they exist."""

    def __init__(self, encoding: str, limit: int):
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise IngestError(f"the page is sent with the encoding {encoding!r}; only gzip or deflate is accepted")
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
        self._inflater = zlib.decompressobj(wbits[codings[0]]) if codings else None
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []

    def _keep(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            raise IngestError(f"the page is larger than the limit of {self.limit:,} bytes (ingest.max_bytes)")
        self.chunks.append(piece)

    def feed(self, raw: bytes) -> None:
        if self._inflater is None:
            self._keep(raw)
            return
        data = raw
        while data:
            try:
                # At most one byte past the cap per call: memory stays bounded whatever the ratio.
                self._keep(self._inflater.decompress(data, self.limit - self.size + 1))
            except zlib.error as exc:
                raise IngestError(f"the page's compressed body is corrupt ({exc})") from None
            data = self._inflater.unconsumed_tail

    def bytes(self) -> bytes:
        return b"".join(self.chunks)


def _read(response: httpx.Response, deadline: float, url: str, config: IngestConfig) -> bytes:
    limit = config.max_bytes
    declared = response.headers.get("content-length")
    encoding = response.headers.get("content-encoding", "")
    if declared and declared.isdigit() and int(declared) > limit and not encoding:
        raise IngestError(f"the page is {int(declared):,} bytes; the limit is {limit:,} (ingest.max_bytes)")
    body = _Body(encoding, limit)
    for chunk in response.iter_raw():
        body.feed(chunk)
        if time.monotonic() > deadline:
            raise IngestError(f"{url} took longer than {config.fetch_deadline_s:g} s (ingest.fetch_deadline_s)")
    return body.bytes()


def fetch_url(
    url: str,
    config: IngestConfig,
    types: tuple[str, ...] = ACCEPTED_TYPES,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Download:
    """GET `url` following at most `max_redirects` redirects, each target checked again, all
    within `fetch_deadline_s`; refuse a body whose type is not one of `types`. With `etag` or
    `last_modified` (from an earlier Download) the request is conditional: a 304 comes back as
    `not_modified` with no body."""
    deadline = time.monotonic() + config.fetch_deadline_s
    timeout = httpx.Timeout(config.url_timeout_s)
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": _ACCEPT_ENCODING}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # trust_env=False: no proxy from the environment may take the connection elsewhere.
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers, trust_env=False) as client:
        for _ in range(config.max_redirects + 1):
            address = resolve_checked(url, config)
            target, host_header, extensions = _pinned(url, address)
            try:
                with client.stream("GET", target, headers=host_header, extensions=extensions) as response:
                    if response.has_redirect_location:  # is_redirect is any 3xx, a 304 too
                        url = urljoin(url, response.headers.get("location", ""))
                        log.info("redirected to %s", url)
                        continue
                    if response.status_code >= 400:
                        raise IngestError(f"{url} answered HTTP {response.status_code}; nothing was added")
                    validators = {
                        "etag": response.headers.get("etag"),
                        "last_modified": response.headers.get("last-modified"),
                    }
                    if response.status_code == 304:
                        return Download(url, "", b"", not_modified=True, **validators)
                    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if content_type not in types:
                        raise IngestError(
                            f"{url} is {content_type or 'of no declared type'}; only HTML, plain text "
                            "and Markdown pages can be added"
                        )
                    body = _read(response, deadline, url, config)
                    return Download(url, content_type, body, response.charset_encoding, **validators)
            except httpx.TimeoutException:
                raise IngestError(f"{url} did not answer within {config.url_timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                raise IngestError(f"could not fetch {url}: {exc.__class__.__name__}: {exc}") from None
    raise IngestError(f"{url}: more than {config.max_redirects} redirects (ingest.max_redirects)")
