"""Building the weekly digest from the archive: pure data, rendered elsewhere (reports/render.py).

A digest covers the change events detected in one ISO week (Amsterdam time). Per topic it lists
the documents with events that week; a document matched by several topics is shown in full
under the first and referred to under the others; documents a topic matched only fuzzily go to
its "mogelijk relevant" block. A closing section accounts for every source's runs that week.

The built digest is plain data (``Digest.to_dict``), so a sent digest can be stored and
rendered again exactly as it was.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.periods import LOCAL, Week
from storage.models import (
    ChangeEvent,
    CrawlRun,
    Document,
    Identifier,
    Match,
    Record,
    Source,
    Topic,
    Version,
)
from storage.topics import definition_of

#: Reference schemes in the order a researcher looks for them, with how each is written.
REFERENCE_ORDER = ("kamerstuk", "procedure", "celex", "ecli", "zaak", "officielebekendmakingen",
                   "dossier", "tk-activiteit", "tk-document")


@dataclass
class Link:
    label: str
    url: str


@dataclass
class EventLine:
    id: int
    kind: str  # new | changed | status | removed
    detail: dict[str, Any]
    at: str  # ISO timestamp


@dataclass
class Reason:
    clause: str
    field: str
    snippet: str
    mark: tuple[int, int]
    fuzzy: bool = False


@dataclass
class Entry:
    document_id: int
    title: str
    doc_type: str | None
    date: str | None  # ISO date of publication (Amsterdam), if known
    references: list[str]
    dossier: str | None  # what entries are grouped and ordered by
    sources: list[str]
    links: list[Link]
    events: list[EventLine]
    reasons: list[Reason]
    strength: str  # strong | weak

    @property
    def kinds(self) -> set[str]:
        return {e.kind for e in self.events}


@dataclass
class SeeAlso:
    document_id: int
    title: str
    under: str  # slug of the topic where the entry is shown in full


@dataclass
class AgendaItem:
    document_id: int
    title: str
    doc_type: str | None
    when: str  # "2026-12-03 10:00" (Amsterdam), as the source states it
    status: str
    references: list[str]
    link: str | None
    #: What is expected then, when the source says so apart from the title (an EU forecast:
    #: "Indicative plenary sitting date, 1st reading"). Digests stored before it have none.
    expected: str | None = None


@dataclass
class TopicSection:
    slug: str
    title: str
    counts: dict[str, int]  # new/changed/status/removed over entries + see-also documents
    entries: list[Entry] = field(default_factory=list)
    see_also: list[SeeAlso] = field(default_factory=list)
    weak: list[Entry] = field(default_factory=list)
    agenda: list[AgendaItem] = field(default_factory=list)


@dataclass
class SourceAccount:
    slug: str
    title: str
    runs: int
    fetched: int
    new: int
    changed: int
    failed: int
    problems: list[str]
    last_status: str | None  # ok | partial | failed | None (not checked this week)


@dataclass
class Digest:
    week: str
    start: str
    end: str
    lang: str
    topics: list[TopicSection]
    sources: list[SourceAccount]
    unmatched: int  # documents with events that week that no topic matched
    event_ids: list[int]
    topic_definitions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Digest:
        def entry(e: dict[str, Any]) -> Entry:
            return Entry(**{**e, "links": [Link(**x) for x in e["links"]],
                            "events": [EventLine(**x) for x in e["events"]],
                            "reasons": [Reason(**{**x, "mark": tuple(x["mark"])})
                                        for x in e["reasons"]]})

        topics = [
            TopicSection(
                slug=t["slug"], title=t["title"], counts=t["counts"],
                entries=[entry(e) for e in t["entries"]],
                see_also=[SeeAlso(**s) for s in t["see_also"]],
                weak=[entry(e) for e in t["weak"]],
                agenda=[AgendaItem(**a) for a in t.get("agenda", [])],
            )
            for t in data["topics"]
        ]
        return cls(**{**data, "topics": topics,
                      "sources": [SourceAccount(**s) for s in data["sources"]]})

    def only_topics(self, slugs: set[str]) -> Digest:
        """The same digest for a subscriber of some topics: a document whose full entry was
        under a topic left out is shown in full under the first remaining one."""
        data = self.to_dict()
        kept = [t for t in data["topics"] if t["slug"] in slugs]
        full = {e["document_id"] for t in kept for e in t["entries"]}
        for topic in kept:
            promoted = []
            for ref in topic["see_also"]:
                if ref["document_id"] not in full and ref["under"] not in slugs:
                    original = next(e for t in data["topics"] for e in t["entries"]
                                    if e["document_id"] == ref["document_id"])
                    promoted.append(original)
                    full.add(ref["document_id"])
            topic["see_also"] = [r for r in topic["see_also"]
                                 if r["document_id"] not in {p["document_id"] for p in promoted}]
            topic["entries"] = sorted(topic["entries"] + promoted, key=_entry_order_dict)
        data["topics"] = kept
        data["topic_definitions"] = [d for d in data["topic_definitions"] if d["slug"] in slugs]
        return Digest.from_dict(data)


def _entry_order_dict(entry: dict[str, Any]) -> tuple[str, str, int]:
    return (entry["dossier"] or "~", entry["date"] or "", entry["document_id"])


def _entry_order(entry: Entry) -> tuple[str, str, int]:
    return (entry.dossier or "~", entry.date or "", entry.document_id)


def build_digest(session: Session, week: Week, *, lang: str = "nl",
                 topic_slugs: list[str] | None = None) -> Digest:
    """The digest of ``week``: deterministic for the same archive state."""
    topics = [t for t in session.scalars(select(Topic).order_by(Topic.title, Topic.slug))
              if t.active and (topic_slugs is None or t.slug in topic_slugs)]
    # Plain rows, not ORM objects: a busy week has thousands of events.
    events = session.execute(
        select(ChangeEvent.id, ChangeEvent.kind, ChangeEvent.document_id, ChangeEvent.detail,
               ChangeEvent.detected_at, Source.slug)
        .join(Record, ChangeEvent.record_id == Record.id)
        .join(Source, Record.source_id == Source.id)
        .where(ChangeEvent.detected_at >= week.start, ChangeEvent.detected_at < week.end)
        .order_by(ChangeEvent.id)
    ).all()
    by_document: dict[int, list[Any]] = defaultdict(list)
    for row in events:
        by_document[row.document_id].append(row)
    document_ids = sorted(by_document)

    # Which topics matched each document (any version up to the end of the week).
    matches: dict[int, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for chunk in _chunks(document_ids):
        for match in session.execute(
            select(Match.id, Match.document_id, Match.topic_id, Match.strength, Match.reason)
            .join(Version, Match.version_id == Version.id)
            .where(Match.document_id.in_(chunk), Version.created_at < week.end)
            .order_by(Match.id)
        ).all():
            matches[match.document_id][match.topic_id].append(match)

    facts = _facts(session, [d for d in document_ids if matches.get(d)])
    agenda = _agenda_facts(session, _agenda_candidates(session, week))
    entries: dict[int, dict[int, Entry]] = {}
    sections = []
    shown_in: dict[int, str] = {}
    for topic in topics:
        section = TopicSection(topic.slug, topic.title, dict.fromkeys(
            ("new", "changed", "status", "removed"), 0))
        for document_id in document_ids:
            topic_matches = matches.get(document_id, {}).get(topic.id)
            if not topic_matches:
                continue
            entry = entries.setdefault(document_id, {}).get(topic.id) or _entry(
                facts[document_id], by_document[document_id], topic_matches)
            entries[document_id][topic.id] = entry
            for kind in entry.kinds:
                section.counts[kind] += 1
            if entry.strength == "weak":
                section.weak.append(entry)
            elif document_id in shown_in:
                section.see_also.append(SeeAlso(document_id, entry.title, shown_in[document_id]))
            else:
                shown_in[document_id] = topic.slug
                section.entries.append(entry)
        section.entries.sort(key=_entry_order)
        section.weak.sort(key=_entry_order)
        section.agenda = _agenda(topic, agenda)
        sections.append(section)

    matched_documents = {d for d in document_ids if matches.get(d)}
    return Digest(
        week=week.label,
        start=week.start.isoformat(),
        end=week.end.isoformat(),
        lang=lang,
        topics=sections,
        sources=_source_accounts(session, week),
        unmatched=len(set(document_ids) - matched_documents),
        event_ids=sorted(row.id for row in events if row.document_id in matched_documents),
        topic_definitions=[definition_of(t).to_toml_dict() for t in topics],
    )


@dataclass
class _DocumentFacts:
    """What every entry of one document shares, whatever topic it is shown under."""

    document: Document
    references: list[str]
    dossier: str | None
    sources: list[str]
    links: list[Link]


def _iso(value: datetime) -> str:
    """Column reads bypass the UTC type on some paths; always say UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def _facts(session: Session, document_ids: list[int]) -> dict[int, _DocumentFacts]:
    """Documents, records, identifiers and links of many documents, in a few queries."""
    documents: dict[int, Document] = {}
    records: dict[int, list[Record]] = defaultdict(list)
    identifiers: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    newest_meta: dict[int, dict[str, Any]] = {}
    slugs = dict(session.execute(select(Source.id, Source.slug)).all())
    for chunk in _chunks(document_ids):
        documents.update({d.id: d for d in session.scalars(
            select(Document).where(Document.id.in_(chunk)))})
        for record in session.scalars(select(Record).where(Record.document_id.in_(chunk))
                                      .order_by(Record.id)):
            records[record.document_id].append(record)
        for document_id, scheme, value in session.execute(
            select(Identifier.document_id, Identifier.scheme, Identifier.value)
            .where(Identifier.document_id.in_(chunk)).order_by(Identifier.id)
        ).all():
            if value not in identifiers[document_id][scheme]:
                identifiers[document_id][scheme].append(value)
        newest = (select(func.max(Version.id)).where(Version.document_id.in_(chunk))
                  .group_by(Version.record_id)).scalar_subquery()
        for record_id, meta in session.execute(
            select(Version.record_id, Version.meta).where(Version.id.in_(newest))
        ).all():
            newest_meta[record_id] = meta or {}
    facts = {}
    for document_id in document_ids:
        ids = identifiers[document_id]
        references = [v for scheme in REFERENCE_ORDER for v in ids.get(scheme, [])
                      if not (scheme == "officielebekendmakingen" and v in ids["kamerstuk"])]
        links = []
        for record in records[document_id]:
            links.append(Link(_link_label(record.url), record.url))
            # Sorted: PostgreSQL's JSONB does not keep key order, and both backends must agree.
            other = newest_meta.get(record.id, {}).get("links", {})
            for label, url in sorted(other.items() if isinstance(other, dict) else []):
                if isinstance(url, str) and url != record.url:
                    links.append(Link(label, url))
        facts[document_id] = _DocumentFacts(
            document=documents[document_id],
            references=references,
            dossier=next(iter(ids.get("procedure", []) + ids.get("dossier", [])), None),
            sources=sorted({slugs[r.source_id] for r in records[document_id]}),
            links=links,
        )
    return facts


def _entry(facts: _DocumentFacts, events: list[Any], topic_matches: list[Any]) -> Entry:
    document = facts.document
    strong = [m for m in topic_matches if m.strength == "strong"]
    best = (strong or topic_matches)[-1]
    published = document.published_at.astimezone(LOCAL).date().isoformat() \
        if document.published_at else None
    return Entry(
        document_id=document.id,
        title=document.title,
        doc_type=document.doc_type,
        date=published,
        references=facts.references,
        dossier=facts.dossier,
        sources=sorted(set(facts.sources) | {row.slug for row in events}),
        links=facts.links,
        events=[EventLine(row.id, row.kind, dict(row.detail or {}), _iso(row.detected_at))
                for row in events],
        reasons=[Reason(h["clause"], h["field"], h["snippet"], tuple(h["mark"]),  # type: ignore[arg-type]
                        h.get("fuzzy", False)) for h in best.reason.get("hits", [])],
        strength="strong" if strong else "weak",
    )


#: How far ahead the agenda looks, from the end of the digest week.
AGENDA_WEEKS = 4
#: Statuses that mean "still coming": activities (Gepland, Verplaatst), open commitments
#: (Toezegging: Openstaand) and EU forecasts (Voorzien: OEIL's indicative plenary sitting dates
#: and expected Council steps, with what is expected in the ``verwacht`` facet), each with its
#: date in the ``datum`` facet.
PLANNED = {"Gepland", "Verplaatst", "Openstaand", "Voorzien"}


def _agenda_candidates(session: Session, week: Week) -> list[tuple[Record, dict[str, str]]]:
    """Records that were planned in the agenda window when the week ended, with their status
    then. Candidates are found through indexes: what is scheduled in the window now, plus what
    had a status change after the week ended (its date may have moved since)."""
    start = week.end
    horizon = week.end + timedelta(weeks=AGENDA_WEEKS)
    moved = select(ChangeEvent.record_id).where(ChangeEvent.kind == "status",
                                                ChangeEvent.detected_at >= week.end)
    records = session.scalars(
        select(Record).where(
            Record.first_seen_at < week.end,
            ((Record.scheduled_at >= start) & (Record.scheduled_at < horizon))
            | Record.id.in_(moved),
        ).order_by(Record.id)
    ).all()
    local_start = start.astimezone(LOCAL).strftime("%Y-%m-%d")
    local_horizon = horizon.astimezone(LOCAL).strftime("%Y-%m-%d")
    later: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks([r.id for r in records]):
        for record_id, detail in session.execute(
            select(ChangeEvent.record_id, ChangeEvent.detail)
            .where(ChangeEvent.record_id.in_(chunk), ChangeEvent.kind == "status",
                   ChangeEvent.detected_at >= week.end)
            .order_by(ChangeEvent.id.desc())
        ).all():
            later[record_id].append(detail or {})
    found = []
    for record in records:
        status = _undo(record.status or {}, later.get(record.id, []))
        when = status.get("datum", "")
        if status.get("activiteit_status") in PLANNED and local_start <= when[:10] < local_horizon:
            found.append((record, status))
    return found


@dataclass
class _AgendaFacts:
    """The agenda candidates with what every topic's agenda needs, loaded once per digest."""

    candidates: list[tuple[Record, dict[str, str]]]
    topics_of: dict[int, set[int]]  # document id → ids of topics that matched it
    references: dict[int, list[str]]  # record id → its zaak, dossier and EU procedure numbers


def _agenda_facts(session: Session, candidates: list[tuple[Record, dict[str, str]]]
                  ) -> _AgendaFacts:
    topics_of: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted({record.document_id for record, _ in candidates})):
        for document_id, topic_id in session.execute(
                select(Match.document_id, Match.topic_id)
                .where(Match.document_id.in_(chunk)).distinct()).all():
            topics_of[document_id].add(topic_id)
    references: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks([record.id for record, _ in candidates
                          if topics_of.get(record.document_id)]):
        for record_id, value in session.execute(
            select(Identifier.record_id, Identifier.value)
            .where(Identifier.record_id.in_(chunk),
                   Identifier.scheme.in_(("zaak", "dossier", "procedure")))
            .order_by(Identifier.id)
        ).all():
            references[record_id].append(value)
    return _AgendaFacts(candidates, topics_of, references)


def _agenda(topic: Topic, facts: _AgendaFacts) -> list[AgendaItem]:
    """The planned activities among the candidates on documents this topic matched."""
    items = [AgendaItem(record.document_id, record.title, record.doc_type, status["datum"],
                        status["activiteit_status"], facts.references[record.id][:3],
                        record.url, _expected(status))
             for record, status in facts.candidates
             if topic.id in facts.topics_of.get(record.document_id, ())]
    return sorted(items, key=lambda a: (a.when, a.document_id))


def _expected(status: dict[str, str]) -> str | None:
    """What is planned, where the source names it beside its date: OEIL's forecast
    (``verwacht``), the Eerste Kamer's next step on a bill (``activiteit``, "Plenaire
    behandeling")."""
    return status.get("verwacht") or status.get("activiteit") or None


def _undo(status: dict[str, str], later_details: list[dict[str, Any]]) -> dict[str, str]:
    """Status facets as they stood before the given status events (newest first) happened."""
    status = dict(status)
    for detail in later_details:
        for facet, (before, _after) in detail.get("changes", {}).items():
            if before is None:
                status.pop(facet, None)
            else:
                status[facet] = before
    return status


def _link_label(url: str) -> str:
    if "/resource" in url:
        return "bestand"
    if "officielebekendmakingen" in url:
        return "officielebekendmakingen"
    return "bron"


def _source_accounts(session: Session, week: Week) -> list[SourceAccount]:
    accounts = []
    for source in session.scalars(select(Source).where(Source.active.is_(True))
                                  .order_by(Source.slug)):
        runs = session.scalars(
            select(CrawlRun).where(CrawlRun.source_id == source.id,
                                   CrawlRun.started_at >= week.start,
                                   CrawlRun.started_at < week.end)
            .order_by(CrawlRun.started_at, CrawlRun.id)
        ).all()
        problems: list[str] = []
        for run in runs:
            for error in run.errors:
                reason = str(error.get("reason", ""))
                if reason and reason not in problems:
                    problems.append(reason)
        accounts.append(SourceAccount(
            slug=source.slug, title=source.title, runs=len(runs),
            fetched=sum(r.fetched for r in runs), new=sum(r.new for r in runs),
            changed=sum(r.changed + r.status_changes + r.removed for r in runs),
            failed=sum(r.failed for r in runs), problems=problems[:5],
            last_status=runs[-1].status if runs else None,
        ))
    return accounts


def generated_label(now: datetime) -> str:
    return now.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
