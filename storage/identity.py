"""Identity: which document (the work) a record (one source's copy) belongs to.

A new record joins a document that is already there in one of three ways, tried in this order
(``find_join``), and every join says why in ``record.joined_by``:

1. **A shared strong identifier** (``STRONG_SCHEMES``): one that names a single work wherever
   it appears (kst-36547-3, a CELEX, an ECLI…). When a record states such an identifier later
   (the TK fills in ``ExterneIdentifier`` weeks after publication), two documents are merged.
2. **A re-issue** (``reissue_of``): the record says it replaces or corrects another one, which
   is then the same document changed, not a new one: a herdruk (kst-36547-3-n1), a gewijzigde
   motie or gewijzigd amendement "(t.v.v. 28638-273)", a (nader) gewijzigd voorstel van wet, a
   rectificatie or EU corrigendum, an amended EU proposal, a title marked "(gewijzigd)".
3. **A near-duplicate** (``find_near_duplicate``): no identifier in common, but the same
   normalised title (and, where both have one, similar text) from *another* source within a
   few days: the same press release on rijksoverheid.nl and in a ministry's feed. Only records
   of one *family* can be near-duplicates of each other (``FAMILIES``), with the thresholds of
   ``NEAR_DUPLICATE``; a news item announcing a letter is not the letter (other family, other
   title), and two records of one source are never near-duplicates (the source says they are
   two things by giving them two keys).

``split_record`` undoes any join (``beleidsradar documents split``).

Cost per new record, whatever the archive's size: one indexed query on ``identifier (scheme,
value)``; then, only for records without a strong match and in a family, one statement of
bounded index range scans on ``title_key (key, day)`` (6 keys: the pairs of the title's four
longest content words, hashed with the family; at most PER_KEY entries each side of the day)
joined to the candidates' titles, and rapidfuzz on at most CANDIDATES of them; a press
release's text is read only for a candidate whose title passes. ``bench/bench_identity.py``
measures it at a million records (bench/RESULTS.md).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import combinations
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy import (
    Boolean, Date, Integer, Text, and_, bindparam, delete, or_, select, text, update,
)
from sqlalchemy.orm import Session

from monitors import identifiers as ids
from monitors.text import fold, stem, tokens
from storage.fastinsert import FastInsert
from storage.models import (
    ChangeEvent, Document, Identifier, Match, Record, SearchEntry, TitleKey, Version,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: Schemes that name one work wherever they appear, and why.
STRONG_SCHEMES = {
    "kamerstuk": "kst-36547-3 is one Kamerstuk in TK open data and on officielebekendmakingen",
    "officielebekendmakingen": "an officielebekendmakingen id (ah-tk-…, kv-tk-…, stcrt-…) is one "
                               "publication",
    "celex": "a CELEX number is one EU act or document",
    "eli": "an ELI is one legal act",
    "ecli": "an ECLI is one ruling",
    "zaakdocument": "a motion, amendment or government letter: the TK zaak and its document are "
                    "one work",
}

#: (source, scheme) pairs where a strong scheme names what the record *refers to*, not the
#: record itself: never used to join.
REFERENCE_ONLY = {
    ("officielebekendmakingen", "celex"): "dcterms:source of a Dutch publication names the EU "
                                          "act it implements or rests on (SOURCES.md §3.5): an "
                                          "implementation bill is not the directive",
}


# --- families and thresholds -----------------------------------------------------------------

#: Which records may be near-duplicates of (or, for ``wetsvoorstel``, linked by title to) which:
#: a family per (source, document type); ``kind:feed`` is any researcher-added feed. Records of
#: other sources and types have no family: they join only by identifier or as a re-issue.
#: Left out on purpose: two TK records (a Document and its Zaak share a title but are joined by
#: ``zaakdocument`` where they are one work, and must stay apart where they are not: a question's
#: Zaak holds the question and the answer); court rulings and EU documents (ECLI and CELEX say
#: it all); researcher-added web pages (a page is a place that changes, not a publication).
FAMILIES: dict[tuple[str, str], str] = {
    ("rijksoverheid", "Nieuwsbericht"): "bericht",
    ("kind:feed", "*"): "bericht",
    ("rijksoverheid", "Kamerstuk: Kamerbrief"): "brief",
    ("tweedekamer", "Brief regering"): "brief",
    ("officielebekendmakingen", "Brief"): "brief",
    ("internetconsultatie", "Internetconsultatie"): "wetsvoorstel",
    ("raadvanstate", "Advies Afdeling advisering Raad van State"): "wetsvoorstel",
}


@dataclass(frozen=True)
class Rule:
    """How alike two records of a family must be (see ``NEAR_DUPLICATE``)."""

    join: bool  # near-duplicates join one document; else they are only linked (timelines)
    window_days: int | None  # publication days at most this far apart (None: any distance)
    title_score: int  # rapidfuzz token_set_ratio of the two titles' content words, at least
    #: Shared content words / all content words of both titles (Jaccard), at least; with
    #: ``containment``, shared / the shorter title's words instead (one title inside the other).
    overlap: float
    min_words: int  # content words each title needs (short titles are too generic)
    text_score: int | None  # token_set_ratio of the texts, at least, when both have text
    containment: bool = False


#: The thresholds, per family. Scores are rapidfuzz 0–100 on normalised words (folded, Dutch
#: stems, stop words and boilerplate such as "Kamerbrief over" removed: ``title_shape``), never
#: on raw strings (rapidfuzz ≥ 3 does not preprocess). On every family, when both titles state
#: numbers or months, those of one must all be in the other ("juni 2026" is not
#: "november 2026"; "2024/1712" is in "2024/1712 van 13 juni 2024"), and for a
#: join the candidate document must hold no record of the new record's source and no strong
#: identifier of a scheme the new record has with another value.
NEAR_DUPLICATE: dict[str, Rule] = {
    # The same press release on two sites: published within days, the title at most lightly
    # edited (a site name, "Nieuwsbericht:"), and the text the same where both carry one
    # (token_set_ratio: a feed's summary inside the full text still scores 100; two releases
    # on one subject share their title words at most).
    "bericht": Rule(join=True, window_days=3, title_score=90, overlap=0.6, min_words=4,
                    text_score=80),
    # A government letter on rijksoverheid.nl without its kst link (route `classic`, or the page
    # lacks the link) and the same letter from the TK or officielebekendmakingen. Their texts
    # are not comparable (a summary vs. TK metadata), so the title must be all but identical;
    # rijksoverheid.nl dates a letter up to a week after the TK's Datum (the demo recording).
    "brief": Rule(join=True, window_days=14, title_score=95, overlap=0.6, min_words=4,
                  text_score=None),
    # A consultation or Council of State advice and the bill it is about share the bill's
    # title, months apart: linked in the dossier's timeline, never joined (three works). The
    # consultation's title is often the bill's without the directive's full name, so one
    # title's words must lie (nearly) inside the other's.
    "wetsvoorstel": Rule(join=False, window_days=None, title_score=90, overlap=0.8, min_words=5,
                         text_score=None, containment=True),
}

#: Texts are compared on their first TEXT_WORDS words, and only when both have TEXT_MIN_WORDS
#: words besides their title's; otherwise the title decides.
TEXT_WORDS = 300
TEXT_MIN_WORDS = 20
#: Candidates compared per lookup (the records sharing most keys, then the nearest in date).
CANDIDATES = 8
#: Index entries read per key and per side of the new record's day, nearest first.
PER_KEY = 16
#: A title marked "(gewijzigd)", "(herdruk)" … re-issues a record with the same title seen at
#: most this many days before.
MARKER_WINDOW_DAYS = 90
#: How many of a title's longest content words make its keys (every pair of them is one key).
KEY_WORDS = 4


def near_family(source: str, source_kind: str, doc_type: str | None) -> str | None:
    """The near-duplicate family of a record of ``source`` (slug; ``source_kind`` spider, feed
    or page) with this document type, or None."""
    return (FAMILIES.get((source, doc_type or ""))
            or FAMILIES.get((source, "*"))
            or FAMILIES.get((f"kind:{source_kind}", doc_type or ""))
            or FAMILIES.get((f"kind:{source_kind}", "*")))


# --- titles ------------------------------------------------------------------------------------

_STOPWORDS = frozenset("""
de het een en van voor over in op met aan te tot bij door naar om uit als of dan dat die dit
deze is zijn wordt worden werd zal kan er ook niet nog meer wat ter ten inzake
the a an of and for on in to with by from at as is are
""".split())
_MONTHS = frozenset("""januari februari maart april mei juni juli augustus september oktober
november december january february march may june july august october""".split())
#: Words around a title that say what kind of item it is, or where: not what it is about.
_BOILERPLATE = (
    re.compile(r"^(?:kamerbrief|brief)\s+(?:van\s+(?:de|het)\s+[^:]{0,80}?\s+)?"
               r"(?:over|inzake|betreffende|aangaande|met|bij)\s+"),
    re.compile(r"^(?:nieuwsbericht|persbericht|nieuws|bericht)\s*[:|–—-]\s*"),
    re.compile(r"\s+[|–—-]\s+(?:(?:nieuwsbericht|persbericht|nieuws)\s+[|–—-]\s+)?"
               r"[\w.-]+\.(?:nl|eu|com|org)$"),
    re.compile(r"\s+\|\s+[^|]{1,60}$"),
)


#: A word, as monitors.text reads one (hyphenated compounds and 273f stay one word).
_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)


class TitleShape(NamedTuple):
    """A title as identity compares it."""

    stems: tuple[str, ...]  # content words (folded, Dutch stems), in order, without repeats
    marks: frozenset[str]  # the numbers and month names it states


@lru_cache(maxsize=10_000)  # bounded: a crawl's memory stays flat (bench/RESULTS.md)
def title_shape(title: str | None) -> TitleShape:
    """The content words of ``title`` and the numbers and months it names: folded, without
    boilerplate ("Kamerbrief over", "Nieuwsbericht:", "| Rijksoverheid.nl") and stop words."""
    # casefold() and the cached per-word stem (which folds accents) instead of fold() on the
    # whole title: no per-character Python loop, which made this a main cost of the check.
    text = (title or "").casefold()
    for pattern in _BOILERPLATE:
        text = pattern.sub("", text)
    stems: dict[str, None] = {}
    marks = set()
    for word in _WORD.findall(text.replace("/", " ")):
        if not word.isascii():
            word = fold(word)  # "één" is the stop word "een"
        if word in _STOPWORDS:
            continue
        if word.isdigit() or word in _MONTHS:
            marks.add(word.lstrip("0") or "0")
        stems[stem(word)] = None
    return TitleShape(tuple(stems), frozenset(marks))


def _hash(*parts: str) -> int:
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pair_keys(family: str, shape: TitleShape) -> list[int]:
    """The blocking keys of a title in its family: every pair of its KEY_WORDS longest content
    words (ties alphabetical). Two titles alike enough to join share at least one pair."""
    longest = sorted(shape.stems, key=lambda s: (-len(s), s))[:KEY_WORDS]
    return [_hash(family, a, b) for a, b in combinations(sorted(longest), 2)]


def exact_key(shape: TitleShape) -> int | None:
    """The key of the whole normalised title (family ``=``), for re-issues marked in the title."""
    return _hash("=", *shape.stems) if shape.stems else None


def title_key_rows(source: str, source_kind: str, doc_type: str | None, title: str) -> list[int]:
    """Every key a record's title is indexed under (``title_key``)."""
    shape = title_shape(title)
    keys = [k for k in (exact_key(shape),) if k is not None]
    family = near_family(source, source_kind, doc_type)
    if family is not None and len(shape.stems) >= 2:
        keys += pair_keys(family, shape)
    return list(dict.fromkeys(keys))


def record_day(published_at: datetime | None, seen_at: datetime) -> date:
    """The day a record is dated by for windows: its publication day, else the day first seen
    (Amsterdam)."""
    return (published_at or seen_at).astimezone(AMSTERDAM).date()


@dataclass(frozen=True)
class TitleVerdict:
    score: float
    overlap: float


def compare_titles(a: TitleShape, b: TitleShape, rule: Rule) -> TitleVerdict | None:
    """Whether two titles are alike enough under ``rule``, and how alike."""
    if min(len(a.stems), len(b.stems)) < rule.min_words:
        return None
    if a.marks and b.marks and not (a.marks <= b.marks or b.marks <= a.marks):
        return None
    shared = len(set(a.stems) & set(b.stems))
    overlap = shared / (min(len(a.stems), len(b.stems)) if rule.containment
                        else len(set(a.stems) | set(b.stems)))
    if overlap < rule.overlap:
        return None
    score = fuzz.token_set_ratio(" ".join(a.stems), " ".join(b.stems),
                                 score_cutoff=rule.title_score)
    return TitleVerdict(round(score, 1), round(overlap, 2)) if score else None


def _text_words(text: str, title: TitleShape) -> list[str]:
    skip = set(title.stems)
    found = []
    for token in tokens(text[:TEXT_WORDS * 12]):
        if token.stem not in skip:
            found.append(token.folded)
            if len(found) == TEXT_WORDS:
                break
    return found


def compare_texts(a: str, a_title: TitleShape, b: str, b_title: TitleShape) -> float | None:
    """token_set_ratio of two texts without their titles' words, or None when either is too
    short to say anything."""
    first, second = _text_words(a, a_title), _text_words(b, b_title)
    if min(len(first), len(second)) < TEXT_MIN_WORDS:
        return None
    return round(fuzz.token_set_ratio(" ".join(first), " ".join(second)), 1)


# --- what a new record is -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFacts:
    """What identity needs to know of a new record (``storage.archive`` builds it)."""

    source_id: int
    source: str  # slug
    source_kind: str  # spider | feed | page
    title: str
    text: str
    doc_type: str | None
    day: date  # ``record_day``
    identifiers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Join:
    """The document a new record belongs to, and why (``record.joined_by``)."""

    document_id: int
    reason: dict[str, Any]


def find_join(session: Session, facts: RecordFacts) -> Join | None:
    """The document ``facts`` belongs to: by a strong identifier, else as a re-issue, else as a
    near-duplicate; None for a new work."""
    strong = find_document(session, facts.identifiers, source=facts.source)
    reissue = reissue_of(facts.title, facts.text, facts.doc_type, facts.identifiers)
    if strong is not None:
        reason = join_reason(*strong[1])
        if reissue is not None:
            reason["reissue"] = reissue.kind
        return Join(strong[0], reason)
    if reissue is not None:
        found = find_reissued(session, reissue, facts)
        if found is not None:
            return found
    return find_near_duplicate(session, facts)


_INSERT_TITLE_KEY = FastInsert(TitleKey.__table__, ("record_id", "key", "source_id", "day"))


def index_title(session: Session, record_id: int, facts: RecordFacts, *, fresh: bool) -> None:
    """Write the record's title keys (``fresh``: it has none yet; else they are replaced)."""
    if not fresh:
        session.execute(delete(TitleKey).where(TitleKey.record_id == record_id))
    keys = title_key_rows(facts.source, facts.source_kind, facts.doc_type, facts.title)
    if keys:
        _INSERT_TITLE_KEY.many(session.connection(), [
            {"record_id": record_id, "key": key, "source_id": facts.source_id, "day": facts.day}
            for key in keys])


# --- strong identifiers --------------------------------------------------------------------------


def find_document(
    session: Session, identifiers: Iterable[tuple[str, str]], *, exclude: int | None = None,
    source: str | None = None,
) -> tuple[int, tuple[str, str]] | None:
    """The document that shares the most strong identifiers with these, and one of them.
    ``source`` (the stating source's slug) leaves out its ``REFERENCE_ONLY`` schemes."""
    strong = sorted({(s, v) for s, v in identifiers
                     if s in STRONG_SCHEMES and (source, s) not in REFERENCE_ONLY})
    if not strong:
        return None
    params: dict[str, Any] = {"exclude": exclude}
    for n, (scheme, value) in enumerate(strong):
        params[f"s{n}"], params[f"v{n}"] = scheme, value
    rows = session.connection().execute(
        _identifier_sql(len(strong), exclude is not None), params).all()
    if not rows:
        return None
    counts = Counter(document_id for document_id, _, _ in rows)
    best = min(counts, key=lambda d: (-counts[d], d))
    scheme, value = next((s, v) for d, s, v in rows if d == best)
    return best, (scheme, value)


@lru_cache(maxsize=32)
def _identifier_sql(count: int, exclude: bool) -> Any:
    """find_document's query for ``count`` identifiers, built once (bound parameters)."""
    query = select(Identifier.document_id, Identifier.scheme, Identifier.value).where(
        or_(*[and_(Identifier.scheme == bindparam(f"s{n}"), Identifier.value == bindparam(f"v{n}"))
              for n in range(count)]))
    if exclude:
        query = query.where(Identifier.document_id != bindparam("exclude"))
    return query


#: A candidate's newest text (built once: find_near_duplicate runs for every new record).
_NEWEST_TEXT = select(Version.text).where(Version.record_id == bindparam("record")).order_by(
    Version.number.desc()).limit(1)


def join_reason(scheme: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"scheme": scheme, "value": value, "why": STRONG_SCHEMES[scheme], **extra}


# --- re-issues -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reissue:
    """A record that says it replaces or corrects another (``reissue_of``)."""

    kind: str  # herdruk, gewijzigde motie, … (Dutch: researchers read it)
    #: Identifiers of the original, most likely first.
    targets: tuple[tuple[str, str], ...] = ()
    #: For a changed bill text: its dossier (the original is the dossier's bill text).
    dossier: str | None = None
    #: For an amended EU proposal: its procedure (the original is the procedure's proposal).
    procedure: str | None = None
    #: For a title marked "(gewijzigd)" and the like: the title without the marker.
    title: str | None = None
    evidence: str = ""


_GEWIJZIGD = re.compile(r"\bgewijzigde?\s+(motie|amendement)\b", re.IGNORECASE)
#: "(t.v.v. 33885, nr.18)", "(t.v.v. 28286-1193)", "(t.v.v. 36200-VII-52)"
_TVV = re.compile(
    r"(?i:\bt\.?\s?v\.?\s?v\.?)\s*(\d{2}\s?\d{3})(?:[\s-]+([A-Z]{1,5}))?"
    r"(?:\s*,\s*(?i:nr)\.?\s*|\s*-\s*|\s+(?i:nr)\.?\s*)(\d{1,4})\b")
#: "ter vervanging van nr. 9", "ter vervanging van die gedrukt onder nr. 273"
_VERVANGING = re.compile(
    r"\bter\s+vervanging\s+van\s+(?:(?:die|het\s+amendement|de\s+motie)\s+gedrukt\s+onder\s+)?"
    r"nr\.?\s*(\d{1,4})\b", re.IGNORECASE)
_BILL_REISSUE = re.compile(r"^(?:nader\s+)?gewijzigd\s+voorstel\s+van\s+wet\b", re.IGNORECASE)
_EU_AMENDED = re.compile(r"^(?:gewijzigd\s+voorstel\s+voor\s+een|amended\s+proposal\s+for\s+a)\b",
                         re.IGNORECASE)
_CORRECTION = re.compile(r"^(?:rectificatie|corrigendum|verbetering)\b", re.IGNORECASE)
_MARKER = re.compile(r"\s*\((gewijzigd|gewijzigde versie|herziene versie|nieuwe versie|herdruk|"
                     r"rectificatie)\)\s*$", re.IGNORECASE)
_HERDRUK = re.compile(r"\bherdruk\b", re.IGNORECASE)
#: Document types whose document *is* a bill's text (the original a gewijzigd voorstel changes).
BILL_TEXTS = ("Voorstel van wet", "Voorstel van wet (initiatiefvoorstel)",
              "Gewijzigd voorstel van wet", "Nader gewijzigd voorstel van wet")


def _own_dossier(identifiers: Sequence[tuple[str, str]]) -> str | None:
    for scheme, value in identifiers:
        if scheme == "dossier":
            return value
    for scheme, value in identifiers:
        if scheme == "kamerstuk" and (canonical := ids.kamerstuk(value)):
            return canonical.split("-", 1)[1].rsplit("-", 1)[0]
    return None


def reissue_of(title: str, text: str, doc_type: str | None,
               identifiers: Sequence[tuple[str, str]]) -> Reissue | None:
    """What ``title``, ``text``, ``doc_type`` and the identifiers say this record re-issues,
    if anything (no database: see ``find_reissued``)."""
    own = {value for _, value in identifiers}
    # A herdruk on officielebekendmakingen: kst-36547-3-n1 (the id says it).
    for scheme, value in identifiers:
        if scheme in ("kamerstuk", "officielebekendmakingen"):
            reprint = ids.reprint_of(value)
            if reprint is not None:
                base = reprint[0]
                targets = (("kamerstuk", base),) if base.startswith("kst-") else ()
                return Reissue("herdruk", targets + (("officielebekendmakingen", base),),
                               evidence=value)
        if scheme == "celex" and (base := ids.corrigendum_of(value)):
            return Reissue("rectificatie", (("celex", base),), evidence=value)
    head = title.strip()
    both = f"{title}\n{text}"
    # Only the title or the document type says so: a letter may mention a gewijzigde motie.
    changed = _GEWIJZIGD.match(head)
    soort = doc_type or ""
    if changed or soort.endswith(("(gewijzigd/nader)", "(gewijzigd/nader/vervangend)")):
        what = (changed.group(1) if changed else "") + soort
        kind = "gewijzigd amendement" if "amendement" in what.lower() else "gewijzigde motie"
        reference = _TVV.search(both)
        if reference:
            dossier, toevoeging, number = reference.groups()
            middle = f"-{toevoeging}" if toevoeging else ""
            target = ids.kamerstuk(f"kst-{dossier.replace(' ', '')}{middle}-{number}")
            if target and target not in own:
                return Reissue(kind, (("kamerstuk", target),), evidence=reference.group())
        replaced = _VERVANGING.search(both)
        dossier = _own_dossier(identifiers)
        if replaced and dossier:
            target = ids.kamerstuk(f"kst-{dossier}-{replaced.group(1)}")
            if target and target not in own:
                return Reissue(kind, (("kamerstuk", target),), evidence=replaced.group())
    if _CORRECTION.match(head):
        targets: list[tuple[str, str]] = []
        targets += [("officielebekendmakingen", p) for p in ids.publications_in(both)]
        targets += [("kamerstuk", k) for k in ids.kamerstukken_in(both)]
        targets += [("celex", c) for c in ids.eu_acts_in(both)]
        targets = [t for t in dict.fromkeys(targets) if t[1] not in own]
        if targets:
            return Reissue("rectificatie", tuple(targets), evidence=head[:80])
    if _BILL_REISSUE.match(head) or _BILL_REISSUE.match(doc_type or ""):
        dossier = _own_dossier(identifiers)
        if dossier:
            return Reissue("gewijzigd voorstel van wet", dossier=dossier,
                           evidence=(doc_type or head)[:80])
    if _EU_AMENDED.match(head):
        procedure = next((v for s, v in identifiers if s == "procedure"), None)
        if procedure:
            return Reissue("gewijzigd EU-voorstel", procedure=procedure, evidence=head[:80])
    marker = _MARKER.search(head)
    if marker:
        said = marker.group(1).lower()
        kind = said if said in ("herdruk", "rectificatie") else "gewijzigde versie"
        return Reissue(kind, title=head[:marker.start()], evidence=marker.group().strip())
    if _HERDRUK.search(head):
        # Says it is a herdruk but not of what: only noted when an identifier joins it.
        return Reissue("herdruk", evidence=head[:80])
    return None


def find_reissued(session: Session, reissue: Reissue, facts: RecordFacts) -> Join | None:
    """The document ``reissue`` re-issues, if the archive has it (indexed lookups only)."""
    found: tuple[int, str] | None = None
    for scheme, value in reissue.targets:
        document_id = session.scalars(select(Identifier.document_id).where(
            Identifier.scheme == scheme, Identifier.value == value).limit(1)).first()
        if document_id is not None:
            found = (resolve(session, document_id), value)
            break
    if found is None and reissue.dossier is not None:
        document_id = session.scalars(
            select(Document.id).join(Identifier, Identifier.document_id == Document.id)
            .where(Identifier.scheme == "dossier", Identifier.value == reissue.dossier,
                   Document.doc_type.in_(BILL_TEXTS), Document.merged_into.is_(None))
            .order_by(Document.id).limit(1)).first()
        if document_id is not None:
            found = (document_id, f"dossier {reissue.dossier}")
    if found is None and reissue.procedure is not None:
        document_id = session.scalars(
            select(Document.id).join(Identifier, Identifier.document_id == Document.id)
            .where(Identifier.scheme == "procedure", Identifier.value == reissue.procedure,
                   Document.doc_type == "proposal", Document.merged_into.is_(None))
            .order_by(Document.id).limit(1)).first()
        if document_id is not None:
            found = (document_id, reissue.procedure)
    if found is None and reissue.title is not None:
        shape = title_shape(reissue.title)
        key = exact_key(shape)
        if key is not None:
            window = timedelta(days=MARKER_WINDOW_DAYS)
            rows = session.execute(
                select(Record.document_id, Record.title).join(
                    TitleKey, TitleKey.record_id == Record.id)
                .where(TitleKey.key == key, TitleKey.day.between(facts.day - window, facts.day))
                .order_by(Record.id).limit(CANDIDATES)).all()
            for document_id, title in rows:
                if title_shape(title).stems == shape.stems:
                    found = (document_id, title)
                    break
    if found is None:
        return None
    document_id, original = found
    label = {"herdruk": "herdruk van {of}", "rectificatie": "rectificatie van {of}",
             "gewijzigde motie": "gewijzigde motie, vervangt {of}",
             "gewijzigd amendement": "gewijzigd amendement, vervangt {of}",
             "gewijzigd voorstel van wet": "gewijzigd voorstel van wet ({of})",
             "gewijzigd EU-voorstel": "gewijzigd voorstel in {of}"}.get(
        reissue.kind, reissue.kind + " van '{of}'")
    return Join(document_id, {
        "why": "re-issue", "kind": reissue.kind, "of": original,
        "evidence": reissue.evidence, "value": label.format(of=original),
    })


# --- near-duplicates ---------------------------------------------------------------------------


class Candidate(NamedTuple):
    """A record that shares title keys with a new one."""

    record_id: int
    hits: int  # keys shared
    day: date
    title: str
    document_id: int
    same_source: bool  # its document already holds a record of the new record's source


@lru_cache(maxsize=64)
def _candidate_sql(keys: int, windowed: bool) -> Any:
    """The candidate query for ``keys`` keys, built once: one small index range scan per key
    (and per side of the day), each nearest first with a LIMIT, joined to the records with
    what the checks need, in one statement (one round trip to PostgreSQL). Plain SQL that
    SQLite and PostgreSQL read alike; building it with the expression language for every
    record cost more than running it."""
    parts = []
    for n in range(keys):
        where = f"key = :k{n} AND source_id <> :source"
        if windowed:
            parts.append(f"SELECT * FROM (SELECT record_id, day FROM title_key WHERE {where} "
                         f"AND day >= :day AND day <= :until ORDER BY day LIMIT :per) AS a{n}")
            parts.append(f"SELECT * FROM (SELECT record_id, day FROM title_key WHERE {where} "
                         f"AND day < :day AND day >= :since ORDER BY day DESC LIMIT :per) AS b{n}")
        else:
            parts.append(f"SELECT * FROM (SELECT record_id, day FROM title_key WHERE {where} "
                         f"ORDER BY day DESC LIMIT :per2) AS a{n}")
    return text(
        "SELECT g.record_id, g.hits, g.day, r.title, r.document_id, "
        "EXISTS (SELECT 1 FROM record s WHERE s.document_id = r.document_id "
        "AND s.source_id = :source) AS same_source "
        "FROM (SELECT record_id, count(*) AS hits, min(day) AS day "
        f"FROM ({' UNION ALL '.join(parts)}) AS c "
        "GROUP BY record_id ORDER BY hits DESC, record_id LIMIT :limit) AS g "
        "JOIN record r ON r.id = g.record_id"
    ).columns(record_id=Integer, hits=Integer, day=Date, title=Text, document_id=Integer,
              same_source=Boolean)


def _candidates(session: Session, keys: Sequence[int], *, day: date | None,
                window: int | None, exclude_source: int | None) -> list[Candidate]:
    """The records sharing most of ``keys``, then nearest in date, of another source than
    ``exclude_source``. Each key reads at most PER_KEY index entries on each side of ``day``:
    a key that two common words make (mensenhandel + slachtoffers) costs no more than a rare
    one, and a real near-duplicate, which shares most of its keys, is found through the
    others."""
    if not keys:
        return []
    windowed = day is not None and window is not None
    params: dict[str, Any] = {f"k{n}": key for n, key in enumerate(keys)}
    params.update(per=PER_KEY, per2=2 * PER_KEY, limit=2 * CANDIDATES,
                  source=-1 if exclude_source is None else exclude_source)
    if windowed:
        assert day is not None and window is not None
        params.update(day=day, since=day - timedelta(days=window),
                      until=day + timedelta(days=window))
    found = [Candidate(row[0], row[1], row[2], row[3], row[4], bool(row[5]))
             for row in session.connection().execute(_candidate_sql(len(keys), windowed),
                                                     params)]
    if day is not None:
        found.sort(key=lambda c: (-c.hits, abs((c.day - day).days), c.record_id))
    return found[:CANDIDATES]


def _conflicts(session: Session, document_id: int,
               identifiers: Sequence[tuple[str, str]], source: str) -> bool:
    """Whether the document has a strong identifier of a scheme the record states with another
    value (two Kamerstukken with different numbers are two works, however alike their titles)."""
    own: dict[str, set[str]] = {}
    for scheme, value in identifiers:
        if scheme in STRONG_SCHEMES and (source, scheme) not in REFERENCE_ONLY:
            own.setdefault(scheme, set()).add(value)
    if not own:
        return False
    theirs: dict[str, set[str]] = {}
    for scheme, value in session.execute(select(Identifier.scheme, Identifier.value).where(
            Identifier.document_id == document_id, Identifier.scheme.in_(sorted(own)))):
        theirs.setdefault(scheme, set()).add(value)
    return any(scheme in theirs and not (values & theirs[scheme])
               for scheme, values in own.items())


def find_near_duplicate(session: Session, facts: RecordFacts) -> Join | None:
    """The document a record of another source with nearly the same title (and text) belongs
    to, within the family's window; None when there is none or the record has no family."""
    family = near_family(facts.source, facts.source_kind, facts.doc_type)
    rule = NEAR_DUPLICATE.get(family or "")
    if family is None or rule is None or not rule.join:
        return None
    shape = title_shape(facts.title)
    if len(shape.stems) < rule.min_words:
        return None
    scored = []
    for candidate in _candidates(session, pair_keys(family, shape), day=facts.day,
                                 window=rule.window_days, exclude_source=facts.source_id):
        if candidate.same_source:
            continue  # its document holds a record of this source: the source says "another"
        verdict = compare_titles(shape, title_shape(candidate.title), rule)
        if verdict is not None:
            scored.append((verdict.score, candidate.hits, -candidate.record_id, candidate,
                           verdict))
    for *_, candidate, verdict in sorted(scored, key=lambda s: s[:3], reverse=True):
        record_id, title, document_id = candidate.record_id, candidate.title, candidate.document_id
        if _conflicts(session, document_id, facts.identifiers, facts.source):
            continue
        text_score = None
        if rule.text_score is not None:
            newest = session.connection().execute(_NEWEST_TEXT, {"record": record_id}).first()
            other = newest[0] if newest else ""
            text_score = compare_texts(facts.text, shape, other, title_shape(title))
            if text_score is not None and text_score < rule.text_score:
                continue
        days = abs((facts.day - candidate.day).days)
        what = "gelijke titel en tekst" if text_score is not None else "gelijke titel"
        return Join(document_id, {
            "why": "near-duplicate", "family": family, "score": verdict.score,
            "overlap": verdict.overlap, "text_score": text_score, "title": title,
            "record": record_id, "days": days,
            "value": f"{what} (score {verdict.score:g}, {days} dag(en) verschil)",
        })
    return None


@dataclass(frozen=True)
class TitleLink:
    """A record whose title names the same thing (``linked_by_title``)."""

    record_id: int
    document_id: int
    title: str
    score: float


def linked_by_title(session: Session, titles: Iterable[str], family: str,
                    sources: Sequence[int] | None = None) -> list[TitleLink]:
    """Records of ``family`` whose title is alike one of ``titles`` by the family's rule (any
    date): a bill's consultation and Council of State advice. Best first, one per document."""
    rule = NEAR_DUPLICATE[family]
    best: dict[int, TitleLink] = {}
    for title in titles:
        shape = title_shape(title)
        if len(shape.stems) < rule.min_words:
            continue
        found = _candidates(session, pair_keys(family, shape), day=None, window=None,
                            exclude_source=None)
        allowed = set(session.scalars(select(Record.id).where(
            Record.id.in_([c.record_id for c in found]),
            Record.source_id.in_(list(sources))))) if sources is not None and found else None
        for candidate in found:
            if allowed is not None and candidate.record_id not in allowed:
                continue
            verdict = compare_titles(shape, title_shape(candidate.title), rule)
            document_id = candidate.document_id
            if verdict is not None and (document_id not in best
                                        or best[document_id].score < verdict.score):
                best[document_id] = TitleLink(candidate.record_id, document_id, candidate.title,
                                              verdict.score)
    return sorted(best.values(), key=lambda link: (-link.score, link.document_id))


# --- merging, splitting, looking up ------------------------------------------------------------


def merge_documents(session: Session, keep_id: int, gone_id: int, *, now: datetime) -> None:
    """Move everything of document ``gone_id`` to ``keep_id``; the gone row points at it."""
    for model in (Record, Identifier, Version, ChangeEvent, Match, SearchEntry):
        session.execute(update(model).where(model.document_id == gone_id)
                        .values(document_id=keep_id))
    gone = session.get(Document, gone_id)
    keep = session.get(Document, keep_id)
    assert gone is not None and keep is not None
    gone.merged_into = keep_id
    keep.first_seen_at = min(keep.first_seen_at, gone.first_seen_at)
    keep.last_changed_at = now
    if keep.published_at is None:
        keep.published_at = gone.published_at
    session.flush()


def resolve(session: Session, document_id: int) -> int:
    """Follow merges: the document a (possibly merged) id now lives in."""
    seen = set()
    while document_id not in seen:
        seen.add(document_id)
        document = session.get(Document, document_id)
        if document is None or document.merged_into is None:
            return document_id
        document_id = document.merged_into
    return document_id


def split_record(session: Session, record: Record, *, now: datetime) -> Document:
    """Undo a wrong join: the record, its versions, identifiers, events and matches move to a
    document of their own. Returns the new document. The reason it had been joined stays in
    ``joined_by`` (``split.was``)."""
    document = Document(title=record.title, doc_type=record.doc_type, first_seen_at=now,
                        last_changed_at=now)
    newest = session.scalars(select(Version).where(Version.record_id == record.id)
                             .order_by(Version.number.desc()).limit(1)).first()
    if newest is not None:
        document.published_at = newest.published_at
    session.add(document)
    session.flush()
    for model in (Identifier, Version, ChangeEvent, SearchEntry):
        session.execute(update(model).where(model.record_id == record.id)
                        .values(document_id=document.id))
    version_ids = select(Version.id).where(Version.record_id == record.id)
    session.execute(update(Match).where(Match.version_id.in_(version_ids))
                    .values(document_id=document.id))
    previous = record.document_id
    record.document_id = document.id
    record.joined_by = {"split": {"from_document": previous, "at": now.isoformat(),
                                  **({"was": record.joined_by} if record.joined_by else {})}}
    session.flush()
    return document


def find_by_identifier(session: Session, text: str) -> list[int]:
    """Documents that carry ``text`` as an identifier (as written, or in canonical form)."""
    candidates = {text, text.upper(), text.lower()}
    for normalise in (ids.kamerstuk, ids.procedure, ids.celex, ids.ecli):
        value = normalise(text)
        if value:
            candidates.add(value)
    found = session.scalars(select(Identifier.document_id).where(
        Identifier.value.in_(sorted(candidates))).distinct()).all()
    return sorted({resolve(session, d) for d in found})


def describe_join(reason: dict[str, Any] | None) -> str:
    """Why a record belongs to its document, in Dutch, for the command line."""
    if not reason:
        return ""
    if "split" in reason:
        split = reason["split"]
        return f"afgesplitst van document #{split.get('from_document')} ({split.get('at', '')[:10]})"
    if reason.get("why") == "near-duplicate":
        return (f"bijna-duplicaat van record {reason.get('record')} "
                f"'{reason.get('title', '')}': {reason.get('value', '')}")
    if reason.get("why") == "re-issue":
        return f"heruitgave: {reason.get('value', '')} ({reason.get('evidence', '')})"
    text = f"gedeeld kenmerk {reason.get('scheme')}:{reason.get('value')}"
    if reason.get("reissue"):
        text += f" ({reason['reissue']})"
    return text
