"""Atom feeds of the digests: one per topic and one for all topics, for researchers who read feeds.

Entries are the digest entries of the last weeks (one per document and week), newest first;
every text goes through the XML serializer, so crawled content is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.etree import ElementTree as ET

from reports.digest import Digest, Entry
from reports.labels import describe_event, document_type, t

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _summary(entry: Entry, lang: str) -> str:
    lines = [" · ".join(x for x in [document_type(entry.doc_type, lang), entry.date or "",
                                     ", ".join(entry.references[:3])] if x)]
    lines += [describe_event(e.kind, e.detail, lang) for e in entry.events]
    for reason in entry.reasons[:2]:
        lines.append(f"{t('why', lang)}: {reason.clause} — {reason.snippet}")
    return "\n".join(lines)


def atom_feed(digests: Sequence[Digest], *, slug: str | None, title: str, base_id: str,
              updated: datetime, lang: str = "nl") -> bytes:
    """An Atom document of the digests' entries (for one topic, or all when ``slug`` is None)."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", f"{base_id}:{slug or 'alle'}")
    _el(feed, "title", title)
    _el(feed, "updated", updated.isoformat())
    _el(feed, "generator", "Beleidsradar")
    seen: set[tuple[str, int]] = set()
    rows = []
    for digest in digests:
        for topic in digest.topics:
            if slug is not None and topic.slug != slug:
                continue
            for entry in topic.entries + topic.weak:
                key = (digest.week, entry.document_id)
                if key in seen:
                    continue
                seen.add(key)
                rows.append((digest, topic.title, entry))
    rows.sort(key=lambda r: (max(e.at for e in r[2].events), r[2].document_id), reverse=True)
    for digest, topic_title, entry in rows:
        item = _el(feed, "entry")
        _el(item, "id", f"{base_id}:document:{entry.document_id}:{digest.week}")
        _el(item, "title", entry.title)
        _el(item, "updated", max(e.at for e in entry.events))
        _el(item, "category", term=topic_title)
        for link in entry.links:
            if link.url.startswith(("https://", "http://")):
                _el(item, "link", href=link.url, rel="alternate" if link is entry.links[0]
                    else "related", title=link.label)
        _el(item, "summary", _summary(entry, lang), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
