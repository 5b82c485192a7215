"""Keeping researcher-added URLs on the public internet.

A feed or page a researcher adds must not point the crawler at this machine or the private
network (loopback, link-local, private ranges, cloud metadata at 169.254.169.254): checked
when the source is added, and again for every request of a researcher-added source, redirects
included, by ``PublicOnlyMiddleware``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest


class UnsafeURL(ValueError):
    """A URL that is not http(s) or that resolves to a non-public address."""


class UnresolvableHost(UnsafeURL):
    """The host name could not be resolved now (no DNS, or no such host)."""


def check_public_url(url: str, *, resolve: bool = True) -> None:
    """Raise UnsafeURL unless ``url`` is http(s) on a host with only public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"only http and https URLs can be watched, not {parts.scheme or '?'}:")
    host = parts.hostname
    if not host:
        raise UnsafeURL(f"no host in {url!r}")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise UnsafeURL(f"{host} is a local name: only public sites can be watched")
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                       proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise UnresolvableHost(f"{host} cannot be resolved ({exc.strerror})") from exc
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(
                f"{host} resolves to {address}, a loopback, link-local or private address: "
                "only public sites can be watched"
            )


class PublicOnlyMiddleware:
    """Downloader middleware: requests of researcher-added sources go to public hosts only.

    Spiders opt in with ``user_added = True``. ``WATCH_ALLOW_PRIVATE_URLS`` names hosts the
    check lets through (or ``*``), for tests that serve feeds from loopback; never in production.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        allowed = str(crawler.settings.get("WATCH_ALLOW_PRIVATE_URLS") or "")
        self.allowed_hosts = {h.strip().lower() for h in allowed.split(",") if h.strip()}
        # A replay sends nothing over the network; what was recorded was checked when live.
        self.allow_private = "*" in self.allowed_hosts or bool(
            crawler.settings.get("WATCH_REPLAY_DIR"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PublicOnlyMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider: Spider | None = self.crawler.spider
        if self.allow_private or not getattr(spider, "user_added", False):
            return None
        if (urlsplit(request.url).hostname or "").lower() in self.allowed_hosts:
            return None
        try:
            check_public_url(request.url)
        except UnsafeURL as exc:
            raise IgnoreRequest(f"refused: {exc}") from exc
        return None
