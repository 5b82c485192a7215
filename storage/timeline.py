"""The life of a bill or an EU procedure: its stages, every document that states its dossier
number or procedure and everything that happened to them in order, and the documents on the
other side (the Dutch documents about an EU procedure; the EU procedure a Dutch bill implements).

Stages are derived from what the archive holds, never assumed: a Dutch bill goes consultation
(internetconsultatie) → advice of the Raad van State → introduced in the Tweede Kamer → TK
treatment → TK vote → Eerste Kamer treatment → EK vote → Staatsblad → entry into force; an EU
procedure proposal → Parliament committee → interinstitutional negotiations → plenary vote →
Council → signature → Official Journal → transposition. A stage without evidence is shown as
such ("unknown"), not as "not reached": the archive may simply not have the document.

Evidence per stage, by source: document types of the dossier's documents (TK ``Voorstel van
wet``, ``Memorie van toelichting``, ``Advies Afdeling advisering Raad van State…``, EK stukken,
Staatsblad ids ``stb-…``); status facets (``besluit``/``stemming``/``besluit_datum`` of the TK
Zaak and the EP procedure, the EK page's and OEIL's ``stadium``, the consultation's
``stadium``/``datum``); OEIL's key events (kept in the EP procedure record's meta); EUR-Lex
document kinds (proposal, position, act). Consultations and Council of State advices that do
not state the dossier number are linked by title (``storage.identity.linked_by_title``, the
blocking index, family ``wetsvoorstel``).

Dutch documents about an EU procedure are found through the search index
(``storage.search.find``): those stating or mentioning the procedure, its CELEX numbers (COM
numbers count), or citing its act by name ("Richtlijn (EU) 2024/1712").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from monitors import identifiers as ids
from storage.identity import linked_by_title
from storage.models import ChangeEvent, Document, Identifier, Record, Source, Version


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # published | new | changed | status | removed
    document_id: int
    title: str
    doc_type: str | None
    source: str
    url: str
    detail: dict


@dataclass(frozen=True)
class Stage:
    """One step of a bill or procedure, and what the archive says about it."""

    key: str
    label: str  # Dutch
    label_en: str
    #: done (it happened), current (under way, or the step the procedure waits for),
    #: planned (a date is set), unknown (nothing in the archive)
    state: str
    when: datetime | None = None
    detail: str = ""  # from the sources: a vote, a stage text, a document
    document_ids: tuple[int, ...] = ()

    def label_for(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label


@dataclass(frozen=True)
class LinkedDocument:
    """A document on the other side: a Dutch document about an EU procedure, or a
    consultation or advice linked to a bill by title."""

    document_id: int
    title: str
    doc_type: str | None
    source: str
    when: datetime | None
    kind: str  # BNC-fiche, JBZ-Raad, implementatie, Kamerbrief, consultatie, advies RvS, …
    why: str  # Dutch: "noemt 2022/0155(COD)", "titel lijkt op het wetsvoorstel (score 96)"
    dossiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timeline:
    key: str  # the dossier number or the canonical procedure
    scheme: str  # dossier | procedure
    documents: int  # documents stating the dossier number or procedure
    entries: list[TimelineEntry]
    title: str = ""
    #: Where it stands now, as its source says (OEIL stage, the Eerste Kamer's stadium).
    current: str = ""
    stages: list[Stage] = field(default_factory=list)
    linked: list[LinkedDocument] = field(default_factory=list)
    #: For a dossier: the EU procedures its documents implement or name (procedure → why).
    procedures: dict[str, str] = field(default_factory=dict)


def timeline_key(value: str) -> tuple[str, str]:
    """(scheme, canonical value) for a dossier number (36547, 36547-VI) or an EU procedure in
    any of its spellings (2022/0155(COD), 2022-0155, …)."""
    value = value.strip()
    procedure = ids.procedure(value)
    if procedure:
        return "procedure", procedure
    if value[:5].isdigit():
        return "dossier", value.upper()
    raise ValueError(f"{value!r} is neither a dossier number (36547) nor an EU procedure "
                     "(2022/0155(COD))")


# --- loading -------------------------------------------------------------------------------------


@dataclass
class _Rec:
    """A record with what stages are read from."""

    id: int
    document_id: int
    source: str
    doc_type: str
    title: str
    status: dict[str, Any]
    url: str
    published_at: datetime | None
    ids: dict[str, list[str]]
    meta: dict[str, Any]
    text: str


def _records(session: Session, document_ids: list[int]) -> list[_Rec]:
    if not document_ids:
        return []
    newest = (select(Version.record_id, func.max(Version.number).label("n"))
              .where(Version.document_id.in_(document_ids)).group_by(Version.record_id)
              .subquery())
    versions = {v.record_id: v for v in session.scalars(select(Version).join(
        newest, and_(Version.record_id == newest.c.record_id, Version.number == newest.c.n)))}
    identifiers: dict[int, dict[str, list[str]]] = {}
    for record_id, scheme, value in session.execute(
            select(Identifier.record_id, Identifier.scheme, Identifier.value)
            .where(Identifier.document_id.in_(document_ids)).order_by(Identifier.id)):
        identifiers.setdefault(record_id, {}).setdefault(scheme, []).append(value)
    found = []
    for record, slug in session.execute(
            select(Record, Source.slug).join(Source, Record.source_id == Source.id)
            .where(Record.document_id.in_(document_ids)).order_by(Record.id)):
        version = versions.get(record.id)
        found.append(_Rec(record.id, record.document_id, slug, record.doc_type or "",
                          record.title, dict(record.status or {}), record.url,
                          version.published_at if version else None,
                          identifiers.get(record.id, {}),
                          dict(version.meta or {}) if version else {},
                          version.text if version else ""))
    return found


def _entries(session: Session, document_ids: list[int]) -> tuple[list[TimelineEntry],
                                                                 list[ChangeEvent]]:
    entries: list[TimelineEntry] = []
    events: list[ChangeEvent] = []
    if not document_ids:
        return entries, events
    rows = session.execute(
        select(ChangeEvent, Record, Source.slug, Document)
        .join(Record, ChangeEvent.record_id == Record.id)
        .join(Source, Record.source_id == Source.id)
        .join(Document, ChangeEvent.document_id == Document.id)
        .where(ChangeEvent.document_id.in_(document_ids))
        .order_by(ChangeEvent.detected_at, ChangeEvent.id))
    published_shown: set[int] = set()
    for event, record, slug, document in rows:
        events.append(event)
        if event.kind == "new" and document.id not in published_shown and \
                document.published_at is not None:
            # A document's first appearance is dated by its publication, not our crawl.
            published_shown.add(document.id)
            entries.append(TimelineEntry(document.published_at, "published", document.id,
                                         document.title, document.doc_type, slug, record.url,
                                         {}))
            continue
        entries.append(TimelineEntry(event.detected_at, event.kind, document.id,
                                     record.title or document.title, record.doc_type, slug,
                                     record.url, dict(event.detail or {})))
    entries.sort(key=lambda e: (e.when, e.document_id))
    return entries, events


def timeline(session: Session, value: str) -> Timeline:
    """The stages, timeline and linked documents of a dossier or an EU procedure."""
    scheme, key = timeline_key(value)
    if scheme == "dossier":
        condition = or_(Identifier.value == key, Identifier.value.like(key + "-%"))
    else:
        condition = Identifier.value == key
    document_ids = sorted(set(session.scalars(
        select(Identifier.document_id).where(Identifier.scheme == scheme, condition))))
    records = _records(session, document_ids)
    if scheme == "dossier":
        return _dossier(session, key, document_ids, records)
    return _procedure(session, key, document_ids, records)


# --- Dutch bills -------------------------------------------------------------------------------

BILL_STAGES = (
    ("consultatie", "Internetconsultatie", "Public consultation"),
    ("advies_rvs", "Advies Raad van State", "Advice of the Council of State"),
    ("ingediend", "Ingediend bij de Tweede Kamer", "Introduced in the House of Representatives"),
    ("behandeling_tk", "Behandeling Tweede Kamer", "House of Representatives: treatment"),
    ("stemming_tk", "Stemming Tweede Kamer", "Vote in the House of Representatives"),
    ("behandeling_ek", "Behandeling Eerste Kamer", "Senate: treatment"),
    ("stemming_ek", "Stemming Eerste Kamer", "Vote in the Senate"),
    ("staatsblad", "Publicatie in het Staatsblad", "Published in the Staatsblad"),
    ("inwerkingtreding", "Inwerkingtreding", "Entry into force"),
)
#: Document types that make a dossier a bill's (else it is a subject dossier: no stages).
BILL_TYPES = {
    "Wetgeving", "Initiatiefwetgeving", "Voorstel van wet", "Voorstel van wet (initiatiefvoorstel)",
    "Memorie van toelichting", "Koninklijke boodschap", "Wetsvoorstel",
    "Gewijzigd voorstel van wet", "Nader gewijzigd voorstel van wet",
    "Advies Afdeling advisering Raad van State",
    "Advies Afdeling advisering Raad van State en Nader rapport",
}
INTRODUCED = {"Voorstel van wet", "Voorstel van wet (initiatiefvoorstel)",
              "Memorie van toelichting", "Koninklijke boodschap"}
TK_TREATMENT = re.compile(r"^(verslag|nota n\.a\.v\.|nota naar aanleiding|nota van wijziging|"
                          r"amendement|motie|wetgevingsoverleg|verslag van een wetgevingsoverleg|"
                          r"tweede nota|derde nota)", re.IGNORECASE)
DECIDED = re.compile(r"\b(aangenomen|verworpen)\b", re.IGNORECASE)
WITHDRAWN = re.compile(r"\bingetrokken\b", re.IGNORECASE)
IN_FORCE = re.compile(r"in\s*werking\s*(?:getreden|treding)", re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(
    "januari februari maart april mei juni juli augustus september oktober november december"
    .split(), start=1)}
_DUTCH_DATE = re.compile(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+((?:19|20)\d{2})\b|"
                         r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b", re.IGNORECASE)


def _date_in(text: str) -> datetime | None:
    """The first date in a Dutch text ("1 juli 2024", "2024-07-01"), as midnight UTC."""
    match = _DUTCH_DATE.search(text or "")
    if not match:
        return None
    try:
        if match.group(1):
            return datetime(int(match.group(3)), _MONTHS[match.group(2).lower()],
                            int(match.group(1)), tzinfo=UTC)
        return datetime(int(match.group(4)), int(match.group(5)), int(match.group(6)),
                        tzinfo=UTC)
    except ValueError:
        return None


def _earliest(recs: list[_Rec]) -> datetime | None:
    return min((r.published_at for r in recs if r.published_at), default=None)


def _latest(recs: list[_Rec]) -> datetime | None:
    return max((r.published_at for r in recs if r.published_at), default=None)


def _docs(recs: list[_Rec]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(r.document_id for r in recs))


def _vote(status: dict[str, Any]) -> str:
    """'aangenomen (Voor 108, Tegen 42)' from besluit facets."""
    besluit = str(status.get("besluit_tekst") or status.get("besluit") or "")
    decided = DECIDED.search(besluit)
    if not decided:
        return ""
    text = decided.group(1).lower()
    if status.get("stemming"):
        text += f" ({status['stemming']})"
    return text


def _bill_titles(recs: list[_Rec]) -> list[str]:
    """The bill's title as its documents state it (to find its consultation by title)."""
    titles: list[str] = []
    for r in recs:
        if r.doc_type in ("Wetgeving", "Initiatiefwetgeving"):
            titles.append(r.title)
        elif r.doc_type in INTRODUCED or r.doc_type.startswith("Gewijzigd voorstel"):
            titles.append(r.title.split(" — ", 1)[-1])
        elif r.source == "eerstekamer" and r.meta.get("volledige_titel"):
            titles.append(str(r.meta["volledige_titel"]))
    return list(dict.fromkeys(t for t in titles if t))


def _dossier(session: Session, key: str, document_ids: list[int],
             records: list[_Rec]) -> Timeline:
    bill = any(r.doc_type in BILL_TYPES for r in records)
    linked: list[LinkedDocument] = []
    extra_records: list[_Rec] = []
    if bill:
        sources = dict(session.execute(select(Source.slug, Source.id).where(
            Source.slug.in_(["internetconsultatie", "raadvanstate"]))).all())
        links = [link for link in linked_by_title(session, _bill_titles(records), "wetsvoorstel",
                                                  sources=list(sources.values()))
                 if link.document_id not in document_ids]
        candidates = _records(session, [link.document_id for link in links])
        # A document that states another dossier is that bill's, however alike the titles.
        other = {r.document_id for r in candidates
                 if any(d != key and not d.startswith(key + "-") for d in r.ids.get("dossier", []))}
        extra_records = [r for r in candidates if r.document_id not in other]
        by_document = {r.document_id: r for r in extra_records}
        for link in links:
            rec = by_document.get(link.document_id)
            if rec is None:
                continue
            linked.append(LinkedDocument(
                link.document_id, rec.title, rec.doc_type, rec.source, rec.published_at,
                "consultatie" if rec.source == "internetconsultatie" else "advies RvS",
                f"titel lijkt op het wetsvoorstel (score {link.score:g})"))
    entries, events = _entries(session, document_ids + [d.document_id for d in linked])
    stages = _bill_stages(records, extra_records, events) if bill else []
    ek_page = next((r for r in records if r.source == "eerstekamer"
                    and r.doc_type == "Wetsvoorstel"), None)
    title = (ek_page.title if ek_page else
             next((r.title for r in records if r.doc_type in ("Wetgeving", "Initiatiefwetgeving")),
                  ""))
    return Timeline(key, "dossier", len(document_ids), entries, title=title,
                    current=str(ek_page.status.get("stadium", "")) if ek_page else "",
                    stages=stages, linked=linked,
                    procedures=_procedures_of(session, records) if bill else {})


def _bill_stages(records: list[_Rec], linked: list[_Rec],
                 events: list[ChangeEvent]) -> list[Stage]:
    found: dict[str, Stage] = {}

    def put(key: str, state: str, when: datetime | None, detail: str,
            recs: list[_Rec] | tuple[int, ...] = ()) -> None:
        label, label_en = next((nl, en) for k, nl, en in BILL_STAGES if k == key)
        documents = recs if isinstance(recs, tuple) else _docs(recs)
        found[key] = Stage(key, label, label_en, state, when, detail, documents)

    everything = records + linked
    consultations = [r for r in everything if r.source == "internetconsultatie"]
    if consultations:
        c = consultations[0]
        stadium = str(c.status.get("stadium", ""))
        closes = c.status.get("datum") or ""
        if stadium == "open":
            put("consultatie", "current", c.published_at, f"open tot {closes}".strip(), [c])
        else:
            put("consultatie", "done", c.published_at,
                (f"gesloten ({closes[:10]})" if closes else stadium), [c])

    advices = [r for r in everything if "Raad van State" in r.doc_type]
    if advices:
        kenmerk = next((v[0] for r in advices if (v := r.ids.get("rvs_kenmerk"))), "")
        dictum = next((str(r.status["dictum"]) for r in advices if r.status.get("dictum")), "")
        detail = " · ".join(p for p in (kenmerk, f"dictum: {dictum}" if dictum else "") if p)
        put("advies_rvs", "done", _earliest(advices), detail, advices)

    introduced = [r for r in records if r.doc_type in INTRODUCED]
    zaak = [r for r in records if r.source == "tweedekamer"
            and r.doc_type in ("Wetgeving", "Initiatiefwetgeving")]
    if introduced:
        put("ingediend", "done", _earliest(introduced),
            ", ".join(sorted({r.doc_type for r in introduced})), introduced)
    elif zaak:
        put("ingediend", "done", _earliest(zaak), "zaak " + ", ".join(
            v for r in zaak for v in r.ids.get("zaak", [])), zaak)

    tk_vote = next(((r, v) for r in zaak if (v := _vote(r.status))), None)
    ek = [r for r in records if r.source == "eerstekamer"
          or any(re.search(r"-[A-Z]{1,2}$", k) for k in r.ids.get("kamerstuk", []))]
    passed_tk = [r for r in ek if r.doc_type.startswith("Gewijzigd voorstel van wet")]
    treatment = [r for r in records if r.source in ("tweedekamer", "officielebekendmakingen")
                 and r not in ek and TK_TREATMENT.match(r.doc_type or "")]
    if treatment:
        latest = max(treatment, key=lambda r: r.published_at or datetime.min.replace(tzinfo=UTC))
        state = "done" if (tk_vote or passed_tk or ek) else "current"
        put("behandeling_tk", state, _latest(treatment),
            f"{len(treatment)} stukken, laatste: {latest.title}", treatment)
    if tk_vote:
        record, text = tk_vote
        when = record.status.get("besluit_datum")
        put("stemming_tk", "done", _parse_day(when) or record.published_at, text, [record])
    elif passed_tk or ek:
        evidence = passed_tk or ek
        put("stemming_tk", "done", _earliest(passed_tk) if passed_tk else None,
            "aangenomen: het wetsvoorstel ligt bij de Eerste Kamer"
            + (f" ({passed_tk[0].title.split(' — ')[0]})" if passed_tk else ""), evidence)

    page = next((r for r in ek if r.source == "eerstekamer" and r.doc_type == "Wetsvoorstel"),
                None)
    stadium = str(page.status.get("stadium", "")) if page else ""
    ek_decided = DECIDED.search(stadium) if stadium else None
    planned = (page.status.get("activiteit"), page.status.get("datum")) if page else (None, None)
    if ek:
        detail = stadium
        if planned[0] and planned[1]:
            detail += f" · gepland: {planned[0]} {planned[1]}"
        over = ek_decided or WITHDRAWN.search(stadium)
        put("behandeling_ek", "done" if over else "current", _latest(ek), detail.strip(" ·"), ek)
    if ek_decided:
        when = _stadium_since(events, page) if page else None
        put("stemming_ek", "done", when, stadium, [page] if page else [])
    elif page and planned[0] and "stemming" in str(planned[0]).lower():
        put("stemming_ek", "planned", _parse_day(planned[1]), f"{planned[0]} {planned[1]}",
            [page])

    staatsblad = [r for r in records if any(v.startswith("stb-")
                                            for v in r.ids.get("officielebekendmakingen", []))
                  or r.doc_type == "Staatsblad"]
    if staatsblad:
        numbers = sorted({v for r in staatsblad for v in r.ids.get("officielebekendmakingen", [])
                          if v.startswith("stb-")})
        put("staatsblad", "done", _earliest(staatsblad), ", ".join(numbers), staatsblad)
    # "In werking getreden op 1 juli 2024" on the EK page, or an inwerkingtredingsbesluit.
    said = [(page, stadium)] if page else []
    said += [(r, r.title) for r in staatsblad]
    for record, text in said:
        match = IN_FORCE.search(text or "")
        if match:
            put("inwerkingtreding", "done", _date_in(text[match.start():]) or record.published_at,
                text, [record])
            break

    return [found.get(key) or Stage(key, nl, en, "unknown") for key, nl, en in BILL_STAGES]


def _parse_day(value: Any) -> datetime | None:
    text = str(value or "")[:10]
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _stadium_since(events: list[ChangeEvent], record: _Rec | None) -> datetime | None:
    """When the record's stadium facet took its current value (its last status event on it)."""
    if record is None:
        return None
    moments = [e.detected_at for e in events if e.record_id == record.id and e.kind == "status"
               and "stadium" in (e.detail or {}).get("changes", {})]
    return max(moments) if moments else record.published_at


def _procedures_of(session: Session, records: list[_Rec]) -> dict[str, str]:
    """EU procedures a bill's documents name or implement: stated or mentioned procedures, and
    the procedures of the EU acts they cite ("ter implementatie van Richtlijn (EU) 2024/1712")."""
    found: dict[str, str] = {}
    acts: dict[str, None] = {}
    for r in records:
        texts = [r.title, str(r.meta.get("volledige_titel") or "")]
        if r.doc_type in BILL_TYPES:
            texts.append(r.text)
        text = "\n".join(t for t in texts if t)
        for procedure in [*r.ids.get("procedure", []),
                          *ids.mentions(text).get("procedure", set())]:
            found.setdefault(procedure, f"noemt {procedure}")
        for celex in [*ids.mentions(text).get("celex", set()), *ids.eu_acts_in(text)]:
            acts.setdefault(celex, None)
    if acts:
        rows = session.execute(
            select(Identifier.value, Identifier.document_id).where(
                Identifier.scheme == "celex", Identifier.value.in_(list(acts))))
        by_document: dict[int, str] = {document_id: celex for celex, document_id in rows}
        if by_document:
            for document_id, procedure in session.execute(
                    select(Identifier.document_id, Identifier.value).where(
                        Identifier.scheme == "procedure",
                        Identifier.document_id.in_(list(by_document)))):
                found.setdefault(procedure, f"noemt {_act_name(by_document[document_id])}")
    return dict(sorted(found.items()))


def _act_name(celex: str) -> str:
    match = re.fullmatch(r"3(\d{4})([LRDF])(\d{4})", celex)
    if not match:
        return celex
    name = {"L": "Richtlijn", "R": "Verordening", "D": "Besluit", "F": "Kaderbesluit"}
    return f"{name[match.group(2)]} (EU) {match.group(1)}/{int(match.group(3))}"


# --- EU procedures -----------------------------------------------------------------------------

EU_STAGES = (
    ("voorstel", "Voorstel van de Commissie", "Commission proposal"),
    ("ep_commissie", "Europees Parlement: commissie", "Parliament: committee"),
    ("onderhandelingen", "Onderhandelingen (triloog)", "Interinstitutional negotiations"),
    ("ep_plenair", "Europees Parlement: plenaire stemming", "Parliament: plenary vote"),
    ("raad", "Raad: standpunt en besluit", "Council: position and decision"),
    ("vastgesteld", "Vastgesteld (ondertekend)", "Adopted (signed)"),
    ("publicatieblad", "Publicatie in het Publicatieblad", "Published in the Official Journal"),
    ("omzetting", "Omzetting in Nederland", "Transposition in the Netherlands"),
)
#: OEIL key events → stage, the first pattern that matches (OEIL's English event names).
KEY_EVENTS = (
    (re.compile(r"published in (?:the )?official journal", re.I), "publicatieblad"),
    (re.compile(r"final act signed", re.I), "vastgesteld"),
    (re.compile(r"\bcouncil\b", re.I), "raad"),
    (re.compile(r"interinstitutional negotiations|trilogue", re.I), "onderhandelingen"),
    # "Committee report tabled for plenary" is the committee's step, so committee comes first.
    (re.compile(r"committee", re.I), "ep_commissie"),
    (re.compile(r"debate in parliament|decision by parliament|results of vote in parliament|"
                r"parliament's (?:first reading )?position", re.I), "ep_plenair"),
    (re.compile(r"legislative proposal|proposal published", re.I), "voorstel"),
)
#: OEIL's current stage → the stage the procedure waits for.
WAITING = (
    (re.compile(r"awaiting committee", re.I), "ep_commissie"),
    (re.compile(r"awaiting (?:plenary|parliament)", re.I), "ep_plenair"),
    (re.compile(r"awaiting council", re.I), "raad"),
    (re.compile(r"awaiting (?:signature|final decision)", re.I), "vastgesteld"),
)
EU_SOURCES = ("eurlex", "europarl")
#: At most this many Dutch documents are listed for a procedure (the newest).
LINKED_MAX = 300


def _procedure(session: Session, key: str, document_ids: list[int],
               records: list[_Rec]) -> Timeline:
    entries, events = _entries(session, document_ids)
    procedure_record = next((r for r in records if r.doc_type == "EU-procedure"), None)
    linked = _dutch_documents(session, key, document_ids, records)
    stages = _eu_stages(records, procedure_record, linked, events) if records else []
    title = procedure_record.title if procedure_record else next(
        (r.title for r in records if r.doc_type == "proposal"), "")
    current = str(procedure_record.status.get("stadium", "")) if procedure_record else ""
    return Timeline(key, "procedure", len(document_ids), entries, title=title, current=current,
                    stages=stages, linked=linked)


def _key_events(procedure: _Rec | None, changes: list[ChangeEvent]) -> list[tuple[str, str]]:
    """OEIL's key events of the procedure: those in its newest version's meta, and every one
    its ``laatste_gebeurtenis`` facet has named since ("2026-11-25: Approval in committee…").
    The facet matters: a new key event changes the facet (a status event) but not the text, so
    no new version (and meta) is stored for it."""
    if procedure is None:
        return []
    found = {(str(e.get("date") or "")[:10], str(e.get("event") or ""))
             for e in procedure.meta.get("key_events") or []}
    said = [procedure.status.get("laatste_gebeurtenis")]
    for change in changes:
        if change.record_id == procedure.id and change.kind in ("status", "new"):
            detail = change.detail or {}
            said += detail.get("changes", {}).get("laatste_gebeurtenis") or []
            said.append((detail.get("status") or {}).get("laatste_gebeurtenis"))
    for value in said:
        when, _, what = str(value or "").partition(": ")
        if _parse_day(when) and what:
            found.add((when[:10], what))
    return sorted(found)


def _eu_stages(records: list[_Rec], procedure: _Rec | None,
               linked: list[LinkedDocument], changes: list[ChangeEvent]) -> list[Stage]:
    events: dict[str, list[tuple[datetime, str]]] = {}
    meta = procedure.meta if procedure else {}
    for day, text in _key_events(procedure, changes):
        when = _parse_day(day)
        stage = next((s for pattern, s in KEY_EVENTS if pattern.search(text)), None)
        if stage and when:
            events.setdefault(stage, []).append((when, text))
    docs: dict[str, list[_Rec]] = {}
    for r in records:
        celex = next(iter(r.ids.get("celex", [])), "")
        if r.doc_type == "proposal":
            docs.setdefault("voorstel", []).append(r)
        elif r.doc_type.startswith("Verslag (EP)"):
            docs.setdefault("ep_commissie", []).append(r)
        elif r.doc_type.startswith("Aangenomen tekst"):
            docs.setdefault("ep_plenair", []).append(r)
        elif r.doc_type == "Council document" or (r.doc_type == "position" and "AG" in celex):
            docs.setdefault("raad", []).append(r)
        elif r.doc_type == "act" and celex.startswith("3"):
            docs.setdefault("vastgesteld", []).append(r)

    found: dict[str, Stage] = {}
    for key, nl, en in EU_STAGES:
        happened = sorted(events.get(key, []))
        evidence = docs.get(key, [])
        when = happened[-1][0] if happened else _earliest(evidence)
        detail = happened[-1][1] if happened else ""
        if key == "voorstel" and evidence:
            detail = ", ".join(f"{_com(c)} ({c})" for r in evidence for c in r.ids.get("celex", [])
                               ) or detail
        if key == "ep_plenair" and procedure is not None and _vote(procedure.status):
            detail = _vote(procedure.status)
            when = _parse_day(procedure.status.get("besluit_datum")) or when
        if key == "vastgesteld" and evidence:
            detail = ", ".join(f"{_act_name(c)} ({c})" for r in evidence
                               for c in r.ids.get("celex", []) if c.startswith("3")) or detail
        if key == "raad" and evidence and not happened:
            detail = evidence[0].title
        if happened or evidence:
            found[key] = Stage(key, nl, en, "done", when, detail, _docs(evidence))
    acts = docs.get("vastgesteld", [])
    directive = any(c[5:6] == "L" for r in acts for c in r.ids.get("celex", [])) or \
        str(meta.get("instrument", "")).lower() == "directive"
    implementing = [d for d in linked if d.kind == "implementatie"]
    if directive:
        deadline = next((str(r.meta[k]) for r in acts for k in ("omzettingstermijn",
                                                                 "transposition_deadline")
                         if r.meta.get(k)), "")
        dossiers = sorted({d for link in implementing for d in link.dossiers})
        parts = [f"omzettingstermijn {deadline}" if deadline else
                 "omzettingstermijn: niet in de bronnen"]
        if dossiers:
            parts.append("Nederlands wetsvoorstel: " + ", ".join(dossiers))
        if acts or implementing:
            found["omzetting"] = Stage(
                "omzetting", "Omzetting in Nederland", "Transposition in the Netherlands",
                "current" if acts else "unknown", _parse_day(deadline), "; ".join(parts),
                tuple(d.document_id for d in implementing))
    stadium = str(procedure.status.get("stadium", "")) if procedure else ""
    waiting = next((s for pattern, s in WAITING if pattern.search(stadium)), None)
    if waiting == "ep_plenair" and "onderhandelingen" in found and "ep_plenair" not in found \
            and "awaiting plenary" not in stadium.lower():
        # "Awaiting Parliament's position in 1st reading" while trilogues run.
        waiting = "onderhandelingen"
    stages = []
    for key, nl, en in EU_STAGES:
        stage = found.get(key)
        if key == waiting and (stage is None or key == "onderhandelingen"):
            stage = Stage(key, nl, en, "current", stage.when if stage else None,
                          stadium if stage is None else f"{stage.detail} · OEIL: {stadium}",
                          stage.document_ids if stage else ())
        if key == "omzetting" and not directive:
            continue  # a regulation applies directly
        stages.append(stage or Stage(key, nl, en, "unknown"))
    return stages


def _com(celex: str) -> str:
    match = re.fullmatch(r"5(\d{4})PC(\d{4})", celex)
    return f"COM({match.group(1)}) {int(match.group(2))}" if match else celex


def _dutch_documents(session: Session, procedure: str, document_ids: list[int],
                     records: list[_Rec]) -> list[LinkedDocument]:
    """Documents that are not the procedure's own (EU) documents but state or mention it, its
    CELEX numbers, or its act by name: BNC-fiches, JBZ-Raad letters, implementation bills."""
    from storage.search import find

    celexes = sorted({c for r in records for c in r.ids.get("celex", [])}
                     | {str(p.get("celex")) for r in records
                        for p in (r.meta.get("proposals") or []) if p.get("celex")})
    clauses = [f"procedure:{procedure}"] + [f"celex:{c}" for c in celexes]
    for celex in celexes:
        clauses += [f'"{phrase}"' for phrase in ids.eu_act_citations(celex)]
    own = set(document_ids)
    # The newest LINKED_MAX: a directive cited for years would otherwise list everything.
    found = sorted(d for d in find(session, " OR ".join(clauses)) if d not in own)[-LINKED_MAX:]
    dutch = [r for r in _records(session, sorted(found)) if r.source not in EU_SOURCES]
    by_document: dict[int, list[_Rec]] = {}
    for r in dutch:
        by_document.setdefault(r.document_id, []).append(r)
    names = {c: (_com(c) if c.startswith("5") else _act_name(c)) for c in celexes}
    linked = []
    for document_id, recs in by_document.items():
        first = min(recs, key=lambda r: r.id)
        text = "\n".join(f"{r.title}\n{r.text}" for r in recs)
        said = ids.mentions(text)
        reasons = []
        if procedure in said.get("procedure", set()) or any(
                procedure in r.ids.get("procedure", []) for r in recs):
            reasons.append(f"noemt {procedure}")
        cited = said.get("celex", set()) | set(ids.eu_acts_in(text))
        reasons += [f"noemt {names[c]}" for c in celexes if c in cited]
        dossiers = tuple(sorted({d for r in recs for d in r.ids.get("dossier", [])}))
        linked.append(LinkedDocument(
            document_id, first.title, first.doc_type, first.source,
            _earliest(recs), _dutch_kind(recs, dossiers), "; ".join(reasons) or "noemt de procedure",
            dossiers))
    return sorted(linked, key=lambda d: (d.when or datetime.min.replace(tzinfo=UTC),
                                         d.document_id))


def _dutch_kind(recs: list[_Rec], dossiers: tuple[str, ...]) -> str:
    title = " ".join(r.title for r in recs).lower()
    types = {r.doc_type for r in recs}
    if "22112" in dossiers or "fiche" in title:
        return "BNC-fiche"
    if "jbz" in title:
        return "JBZ-Raad"
    if types & (BILL_TYPES | {"Internetconsultatie"}) \
            or any(r.source in ("internetconsultatie", "raadvanstate") for r in recs):
        return "implementatie"
    if types & {"Brief regering", "Kamerstuk: Kamerbrief", "Brief"}:
        return "Kamerbrief"
    return next(iter(sorted(t for t in types if t)), "document")
