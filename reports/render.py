"""Rendering a built digest: mail-safe HTML, Markdown and plain text, Dutch or English.

HTML goes through Jinja2 with autoescaping on, so crawled text (titles, snippets, error
reasons) is always escaped; links are only emitted for http(s) URLs. The HTML uses tables and
inline styles only (no <style>, no scripts), which is what Outlook renders reliably.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from reports.digest import AgendaItem, Digest, Entry, Reason
from reports.labels import agenda_note, describe_event, document_type, t
from reports.periods import parse_week

_env = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def safe_url(url: str) -> str | None:
    """The URL if it is http(s), else None: crawled links never become javascript: links."""
    return url if url.startswith(("https://", "http://")) else None


def _day(value: str | None, lang: str) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value[:10])
    return day.strftime("%d-%m-%Y") if lang == "nl" else day.isoformat()


def _highlight_html(reason: Reason) -> Markup:
    start, end = reason.mark
    return Markup("{}<b style=\"background:#fff2a8;\">{}</b>{}").format(
        reason.snippet[:start], reason.snippet[start:end], reason.snippet[end:]
    )


def _context(digest: Digest) -> dict[str, Any]:
    lang = digest.lang
    week = parse_week(digest.week)
    incomplete = [s for s in digest.sources if s.last_status != "ok"]
    return {
        "d": digest,
        "lang": lang,
        "t": lambda key, **values: t(key, lang, **values),
        "period": t("period", lang, start=_day(week.monday.isoformat(), lang),
                    end=_day(week.sunday.isoformat(), lang)),
        "incomplete": incomplete,
        "doc_type": lambda value: document_type(value, lang),
        "event": lambda e: describe_event(e.kind, e.detail, lang),
        "agenda_note": lambda a: agenda_note(a.status, a.expected, lang),
        "agenda_kind": lambda a: agenda_kind(a, lang),
        "day": lambda value: _day(value, lang),
        "safe_url": safe_url,
        "highlight": _highlight_html,
        "topic_titles": {topic.slug: topic.title for topic in digest.topics},
    }


def agenda_kind(item: AgendaItem, lang: str) -> str:
    """"Commissiedebat: " before an agenda item's title, unless the title starts with it
    already ("Rondetafelgesprek: Online seksueel misbruik …")."""
    kind = document_type(item.doc_type, lang)
    if not kind or item.title.casefold().startswith(kind.casefold()):
        return ""
    return f"{kind}: "


def render_html(digest: Digest) -> str:
    return _env.get_template("digest.html").render(**_context(digest))


def _counts_line(counts: dict[str, int], lang: str) -> str:
    parts = [f"{counts[k]} {t(k, lang)}" for k in ("new", "changed", "status", "removed")
             if counts.get(k)]
    return ", ".join(parts) if parts else "0"


def _entry_lines(entry: Entry, lang: str, *, markdown: bool) -> list[str]:
    bullet = "- " if markdown else "  * "
    title = entry.title.replace("\n", " ")
    kind = document_type(entry.doc_type, lang)
    head = f"**{_md(title)}**" if markdown else title
    lines = [f"{bullet}{head}"]
    facts = " · ".join(x for x in [kind, _day(entry.date, lang), ", ".join(entry.references[:3]),
                                    ", ".join(entry.sources)] if x)
    indent = "  " if markdown else "    "
    lines.append(f"{indent}{_md(facts) if markdown else facts}")
    for event in entry.events:
        line = describe_event(event.kind, event.detail, lang)
        lines.append(f"{indent}{_md(line) if markdown else line}")
    for reason in entry.reasons[:3]:
        start, end = reason.mark
        snippet = reason.snippet
        if markdown:
            marked = f"{_md(snippet[:start])}**{_md(snippet[start:end])}**{_md(snippet[end:])}"
            lines.append(f"{indent}{t('why', lang)}: `{reason.clause}` — {marked}")
        else:
            marked = f"{snippet[:start]}[{snippet[start:end]}]{snippet[end:]}"
            lines.append(f"{indent}{t('why', lang)}: {reason.clause} — {marked}")
    for link in entry.links:
        url = safe_url(link.url)
        if url:
            lines.append(f"{indent}[{link.label}]({url})" if markdown else f"{indent}{link.label}: {url}")
    return lines


def _md(text: str) -> str:
    """Escape Markdown (and HTML) metacharacters in crawled text."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]()#+-.!|<>&":
            out.append({"<": "&lt;", ">": "&gt;", "&": "&amp;"}.get(ch, "\\" + ch))
        else:
            out.append(ch)
    return "".join(out)


def render_text(digest: Digest, *, markdown: bool = False) -> str:
    lang = digest.lang
    context = _context(digest)
    lines = []
    title = t("title", lang, week=digest.week)
    lines += [f"# {title}" if markdown else title, context["period"], ""]
    if context["incomplete"]:
        lines += [("> " if markdown else "! ") + t("incomplete", lang, n=len(context["incomplete"])),
                  ""]
    for topic in digest.topics:
        header = f"{topic.title} ({_counts_line(topic.counts, lang)})"
        lines += [f"## {_md(header)}" if markdown else header,
                  "" if markdown else "=" * min(len(header), 78)]
        if not (topic.entries or topic.see_also or topic.weak or topic.agenda):
            lines += [t("nothing", lang), ""]
            continue
        for entry in topic.entries:
            lines += _entry_lines(entry, lang, markdown=markdown) + [""]
        if topic.see_also:
            under = context["topic_titles"]
            for ref in topic.see_also:
                label = t("see_also", lang, topic=under.get(ref.under, ref.under))
                lines.append(f"- {_md(ref.title)} ({_md(label)})" if markdown
                             else f"  - {ref.title} ({label})")
            lines.append("")
        if topic.weak:
            lines += [f"### {t('weak', lang)}" if markdown else t("weak", lang), ""]
            for entry in topic.weak:
                lines += _entry_lines(entry, lang, markdown=markdown) + [""]
        if topic.agenda:
            lines += [f"### {t('agenda', lang)}" if markdown else t("agenda", lang), ""]
            for item in topic.agenda:
                text = (f"{item.when} — {agenda_kind(item, lang)}{item.title}"
                        f" ({agenda_note(item.status, item.expected, lang)})")
                lines.append(f"- {_md(text)}" if markdown else f"  - {text}")
            lines.append("")
    heading = t("sources", lang)
    lines += [f"## {heading}" if markdown else heading, "" if markdown else "=" * len(heading)]
    for source in digest.sources:
        state = (t("not_checked", lang) if source.runs == 0 else
                 f"{source.runs} {t('runs', lang)}, {source.fetched} {t('fetched', lang)}, "
                 f"{source.new} {t('new', lang)}, {source.changed} {t('changed', lang)}, "
                 f"{source.failed} {t('failed', lang)}")
        lines.append(f"- {_md(source.title) if markdown else source.title} ({source.slug}): {state}")
        for problem in source.problems:
            lines.append(f"  - {_md(problem) if markdown else problem}")
    if digest.unmatched:
        lines += ["", t("unmatched", lang, n=digest.unmatched)]
    return "\n".join(lines).rstrip() + "\n"


def render(digest: Digest, fmt: str) -> str:
    if fmt == "html":
        return render_html(digest)
    if fmt == "md":
        return render_text(digest, markdown=True)
    if fmt == "txt":
        return render_text(digest)
    raise ValueError(f"unknown format {fmt!r}: html, md or txt")


__all__ = ["render", "render_html", "render_text", "escape"]
