"""Researcher-added sources (feeds and pages): checked and stored the same way from the command
line and the web UI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.runner import spider_names
from crawler.safety import UnresolvableHost, UnsafeURL, check_public_url
from storage.models import Source

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,98}[a-z0-9]")
KINDS = ("feed", "page")


class SourceRefused(ValueError):
    """The source cannot be added; the message says why, for the researcher."""


@dataclass(frozen=True)
class Added:
    source: Source
    warning: str | None  # e.g. the host does not resolve now (checked again on every crawl)


def slug_for(kind: str, url: str) -> str:
    parts = urlsplit(url)
    text = f"{parts.hostname or ''}{parts.path}".lower()
    slug = "-".join(p for p in "".join(c if c.isalnum() else "-" for c in text).split("-") if p)
    return f"{kind}-{slug[:80].strip('-') or 'bron'}"


def check_selector(selector: str) -> None:
    from cssselect import SelectorSyntaxError
    from parsel import Selector

    try:
        Selector(text="<html></html>").css(selector)
    except SelectorSyntaxError as exc:
        raise SourceRefused(f"selector {selector!r} is not valid CSS: {exc}") from None


def add_source(session: Session, *, kind: str, url: str, title: str | None = None,
               slug: str | None = None, selector: str | None = None, now: datetime) -> Added:
    """Check and store a feed or page to watch (re-activating a removed one with that slug)."""
    if kind not in KINDS:
        raise SourceRefused(f"kind is feed or page, not {kind!r}")
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceRefused(f"{url!r} is not an http(s) address")
    warning = None
    try:
        check_public_url(url)
    except UnresolvableHost as exc:
        warning = f"{exc}; the address is checked again on every crawl"
    except UnsafeURL as exc:
        raise SourceRefused(f"refused: {exc}") from None
    if selector:
        check_selector(selector)
    slug = slug or slug_for(kind, url)
    if not SLUG_PATTERN.fullmatch(slug) or slug in spider_names():
        raise SourceRefused(f"slug {slug!r}: use lower-case letters, digits and hyphens, "
                            "not the name of a built-in source")
    existing = session.scalars(select(Source).where(Source.slug == slug)).one_or_none()
    if existing is not None and existing.active:
        raise SourceRefused(f"source {slug!r} exists (url {existing.url})")
    if existing is None:
        existing = Source(slug=slug, kind=kind, cursor={}, created_at=now)
        session.add(existing)
    config: dict[str, Any] = {"selector": selector} if selector else {}
    existing.kind, existing.url, existing.title = kind, url, title or url
    existing.config, existing.active = config, True
    session.flush()
    return Added(existing, warning)


def remove_source(session: Session, slug: str) -> Source:
    source = session.scalars(select(Source).where(Source.slug == slug)).one_or_none()
    if source is None or source.kind not in KINDS:
        raise SourceRefused(f"no feed or page {slug!r} (built-in sources cannot be removed)")
    source.active = False
    return source
