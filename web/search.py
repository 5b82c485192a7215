"""The search page and its exports: the monitors' query language over the whole archive
(storage.search: FTS5 on SQLite, tsvector on PostgreSQL, verified by the same matcher), with
filters and facets in the URL so every result set has a stable, shareable address."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Response, jsonify, render_template, request
from werkzeug.datastructures import MultiDict

from monitors.errors import QuerySyntaxError
from web.common import db, parse_day

PAGE_SIZE = 25
EXPORT_LIMIT = 10_000
EVENT_KINDS = ("new", "changed", "status", "removed")


@dataclass
class Params:
    q: str = ""
    sort: str = "relevantie"
    since: date | None = None
    until: date | None = None
    sources: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    year: int | None = None
    event: str | None = None
    event_since: date | None = None
    event_until: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> Params:
        year = args.get("jaar", type=int)
        event = args.get("gebeurtenis")
        return cls(
            q=args.get("q", "").strip()[:2000],
            sort="datum" if args.get("sorteer") == "datum" else "relevantie",
            since=parse_day(args.get("van")), until=parse_day(args.get("tot")),
            sources=args.getlist("bron"), doc_types=args.getlist("soort"),
            topics=args.getlist("onderwerp"), year=year if year and 1800 < year < 2200 else None,
            event=event if event in EVENT_KINDS else None,
            event_since=parse_day(args.get("gewijzigd_van")),
            event_until=parse_day(args.get("gewijzigd_tot")),
            page=max(1, args.get("pagina", 1, type=int) or 1),
        )

    def args(self) -> dict[str, Any]:
        """The URL arguments that give this result set (pagination excluded)."""
        return {
            "q": self.q, "sorteer": self.sort if self.sort != "relevantie" else None,
            "van": self.since.isoformat() if self.since else None,
            "tot": self.until.isoformat() if self.until else None,
            "bron": self.sources, "soort": self.doc_types, "onderwerp": self.topics,
            "jaar": self.year, "gebeurtenis": self.event,
            "gewijzigd_van": self.event_since.isoformat() if self.event_since else None,
            "gewijzigd_tot": self.event_until.isoformat() if self.event_until else None,
        }

    def period(self) -> tuple[date | None, date | None]:
        since, until = self.since, self.until
        if self.year:
            first, last = date(self.year, 1, 1), date(self.year, 12, 31)
            since = max(since, first) if since else first
            until = min(until, last) if until else last
        return since, until


def run(params: Params, *, limit: int, offset: int) -> Any:
    from storage import search as archive_search

    since, until = params.period()
    with db() as s:
        archive_search.load_counts(s)  # a server counts results in memory (SQLite)
        return archive_search.search(
            s, params.q, sort="date" if params.sort == "datum" else "relevance",
            since=since, until=until, sources=params.sources or None,
            doc_types=params.doc_types or None, topics=params.topics or None,
            event_kinds=[params.event] if params.event else None,
            event_since=params.event_since, event_until=params.event_until,
            limit=limit, offset=offset)


def search_page() -> Any:
    from storage.curation import search_notes

    params = Params.from_args(request.args)
    result, error, notes = None, None, []
    if params.q or params.event or params.topics:
        try:
            result = run(params, limit=PAGE_SIZE, offset=(params.page - 1) * PAGE_SIZE)
        except QuerySyntaxError as exc:
            error = exc
    if params.q and params.page == 1:
        with db() as s:
            notes = search_notes(s, params.q, limit=10)  # colleagues' notes with these words
    args = params.args()
    return render_template("search.html", p=params, args=args, result=result, error=error,
                           notes=notes,
                           facets=facet_links(result, args) if result else [],
                           page_size=PAGE_SIZE), 200 if error is None else 400


#: Facets as the page shows them: (label, URL argument, facet name in the search result).
FACETS = (("Onderwerp", "onderwerp", "topic"), ("Bron", "bron", "source"),
          ("Soort", "soort", "doc_type"), ("Jaar", "jaar", "year"))


def facet_links(result: Any, args: dict[str, Any]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Per facet: (value, count, URL that toggles the value as a filter, chosen)."""
    from web.common import query_url as _query_url

    shown = []
    for label, arg, name in FACETS:
        values = []
        for value, count in list(result.facets.get(name, []))[:12]:
            if arg == "jaar":
                chosen = str(args.get("jaar")) == str(value)
                link = _query_url("web.search", args, jaar=None if chosen else value)
            else:
                current = list(args.get(arg) or [])
                chosen = str(value) in current
                toggled = [v for v in current if v != str(value)] if chosen else current + [value]
                link = _query_url("web.search", args, **{arg: toggled})
            values.append((value, count, link, chosen))
        if values:
            shown.append((label, values))
    return shown


def rows_of(result: Any) -> list[dict[str, Any]]:
    return [{
        "document": hit.document_id,
        "datum": hit.day.isoformat() if hit.day else "",
        "soort": hit.doc_type or "",
        "titel": hit.title,
        "bronnen": " ".join(hit.sources),
        "kenmerken": " ".join(f"{s}:{v}" for s, v in hit.identifiers),
        "onderwerpen": " ".join(hit.topics),
        "waarom": " | ".join(f"{h.clause} ({h.field}): {h.snippet}" for h in
                             (hit.match.hits[:3] if hit.match else ())),
        "url": request.host_url.rstrip("/") + f"/documenten/{hit.document_id}",
    } for hit in result.hits]


def export(args: MultiDict[str, str], *, fmt: str) -> Any:
    params = Params.from_args(args)
    if not params.q and not params.event and not params.topics:
        return jsonify({"error": "give q (a query), gebeurtenis or onderwerp"}), 400
    try:
        result = run(params, limit=min(EXPORT_LIMIT, args.get("limit", EXPORT_LIMIT, type=int)
                                      or EXPORT_LIMIT),
                     offset=max(0, args.get("offset", 0, type=int) or 0))
    except QuerySyntaxError as exc:
        return jsonify({"error": str(exc), "position": getattr(exc, "position", None)}), 400
    rows = rows_of(result)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["document"])
        writer.writeheader()
        for row in rows:
            # A cell starting with = + - @ would run as a formula in a spreadsheet.
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v)
                             for k, v in row.items()})
        return Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="beleidsradar-zoekresultaat.csv"'})
    return jsonify({"query": params.q, "filters": params.args(), "total": result.total,
                    "documents": rows, "facets": result.facets})
