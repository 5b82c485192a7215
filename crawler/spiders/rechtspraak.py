"""rechtspraak.nl open data: criminal rulings that cite art. 273f Sr or another monitored article.

Follows SOURCES.md §7. The service has no full-text search, so this is two steps (§7.3):

1. Search (``uitspraken/zoeken``, an Atom list of ECLIs, §7.1) for everything in the rechtsgebied
   ``WATCH_RECHTSPRAAK_SUBJECT`` (Strafrecht) modified since the cursor minus an overlap, sorted
   by modification date ascending, paged by the client with ``from``/``max`` until a page is
   not full (the feed has no next link; its subtitle "Aantal gevonden ECLI's: N" gives the
   total, kept in the stats). ``from`` starts at 0 and steps by the number of entries received,
   as the clients in the wild do; the documentation's example (``from=501``) suggests 1-based
   offsets, in which case every page boundary repeats one ECLI, which is deduplicated: nothing
   is skipped either way.
2. For each ECLI, the content document (``uitspraken/content?id=``, RDF metadata + inhoudsindicatie
   + uitspraak/conclusie text, §7.2). A ruling is **kept** only when it cites a monitored article
   of the Wetboek van Strafrecht (``WATCH_RECHTSPRAAK_ARTICLES``) in its law references
   (``dcterms:references`` with BWB id BWBR0001854) or in its text
   (``monitors.identifiers.criminal_code_articles_in``). Rulings not kept are only counted
   (crawl stats ``watch/rechtspraak/*``), never stored.

Quirks handled: metadata-only records (no uitspraak/conclusie text) still become items from their
inhoudsindicatie and metadata, flagged ``meta["metadata_only"]``; a record with
``dcterms:isReplacedBy`` points to its new ECLI: when it does not qualify on its own, the new
ECLI's document decides, and the item says "vervangen door …" (status facet ``vervangen_door``,
the new ECLI among its ``ecli`` identifiers, so both land on one document); feed entries marked
``deleted="doc"`` or ``deleted="ecli"`` become removals; ECLIs in ``dcterms:replaces`` are the
same ruling's earlier ECLIs (``ecli``), old LJN numbers go to ``ljn``. XML is read by local
names. Timestamps: the feed's ``updated`` carries an offset, the content's ``modified`` is naive
local time; the ``modified`` search parameter is sent as Amsterdam local time.

[UNCONFIRMED] (SOURCES.md §7.1), all settings: the case of the rechtsgebied URI the server
accepts (``#strafRecht`` per the value list, ``#strafrecht`` in code in the wild) — rulings whose
metadata name another rechtsgebied are dropped client-side, so a server that ignores a wrong
``subject`` costs requests, not precision; the time zone the server reads ``modified`` in (the
overlap absorbs an hour either way).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import scrapy
from lxml import etree
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import PolicyItem
from crawler.spiders._base import FailureAccount, utc_day, web_address
from monitors import identifiers as ids

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
#: BWB id of the Wetboek van Strafrecht (SOURCES.md §7.2, §8.4).
CRIMINAL_CODE = "BWBR0001854"
BWB_ID = re.compile(r"BWBR\d{7}")
ARTICLE_PARAM = re.compile(r"[?&]artikel=([^&]+)")
TOTAL = re.compile(r"(\d[\d.]*)")
LJN = re.compile(r"^[A-Z]{2}\d{4}$")
#: How long the title's summary may be before it is cut at a word.
TITLE_SUMMARY = 160


class SourceFormatError(ValueError):
    """A document does not have the shape this spider was written for."""


# --- XML by local names -------------------------------------------------------------------------

def _local(element: Any) -> str:
    return etree.QName(element).localname


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _descendants(element: Any, name: str) -> list[Any]:
    return [c for c in element.iter() if isinstance(c.tag, str) and _local(c) == name]


def _plain(element: Any | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _child_text(element: Any, name: str) -> str:
    found = _children(element, name)
    return _plain(found[0]) if found else ""


def _attr(element: Any, name: str) -> str:
    """An attribute by local name, whatever its namespace (``bwb:resourceIdentifier``, …)."""
    for key, value in element.attrib.items():
        if etree.QName(key).localname == name:
            return value.strip()
    return ""


def _parse_xml(body: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(body, parser=parser)


def _paragraphs(element: Any | None) -> str:
    """Text of an inhoudsindicatie: one line per ``para``, whitespace tidied."""
    if element is None:
        return ""
    paras = [_plain(p) for p in _descendants(element, "para")]
    lines = [p for p in paras if p] or [_plain(element)]
    return "\n".join(line for line in lines if line)


def dutch_date(value: str) -> str:
    """ISO ``2026-11-20`` as the source writes dates for people: ``20-11-2026``."""
    try:
        return date.fromisoformat(value[:10]).strftime("%d-%m-%Y")
    except ValueError:
        return value


def parse_time(value: str) -> datetime:
    """A source timestamp as aware UTC; naive ones are Amsterdam local time."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=AMSTERDAM)
    return parsed.astimezone(UTC)



def _shorten(text: str, limit: int = TITLE_SUMMARY) -> str:
    """Whole sentences up to ``limit`` characters; a first sentence too long is cut at a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text):
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    return kept or text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


# --- the content document -----------------------------------------------------------------------

@dataclass
class Reference:
    """One ``dcterms:references`` (Wetsverwijzing)."""

    label: str
    resource: str
    bwb: str | None
    article: str | None


@dataclass
class Ruling:
    """What a content document states about one ECLI."""

    ecli: str
    kind: str = ""
    instantie: str = ""
    instantie_uri: str = ""
    date: str = ""
    date_label: str = ""
    issued: str = ""
    modified: str = ""
    zaaknummers: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    subjects: list[tuple[str, str]] = field(default_factory=list)
    spatial: str = ""
    references: list[Reference] = field(default_factory=list)
    relations: list[dict[str, str]] = field(default_factory=list)
    vindplaatsen: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    replaced_by: str | None = None
    deeplink: str = ""
    summary: str = ""
    body: str = ""
    body_kind: str = ""

    @property
    def metadata_only(self) -> bool:
        return not self.body

    def criminal_code_articles(self) -> list[str]:
        """Articles of the Wetboek van Strafrecht in the law references, in order."""
        return list(dict.fromkeys(r.article for r in self.references
                                  if r.bwb == CRIMINAL_CODE and r.article))


def parse_ruling(root: Any) -> Ruling:
    """The ``open-rechtspraak`` document → Ruling; SourceFormatError when it is not one."""
    if _local(root) != "open-rechtspraak":
        raise SourceFormatError(f"not a rechtspraak content document (root element "
                                f"{_local(root)})")
    descriptions = _descendants(root, "Description")
    work = next((d for d in descriptions
                 if _child_text(d, "identifier").upper().startswith("ECLI:")), None)
    if work is None:
        raise SourceFormatError("no rdf:Description with an ECLI dcterms:identifier")
    ecli = ids.ecli(_child_text(work, "identifier"))
    if ecli is None:
        raise SourceFormatError(f"unreadable ECLI {_child_text(work, 'identifier')!r}")
    ruling = Ruling(ecli=ecli)
    ruling.kind = _child_text(work, "type")
    creator = _children(work, "creator")
    if creator:
        ruling.instantie = _plain(creator[0])
        ruling.instantie_uri = _attr(creator[0], "resourceIdentifier")
    dated = _children(work, "date")
    if dated:
        ruling.date = _plain(dated[0])
        ruling.date_label = _attr(dated[0], "label")
    ruling.issued = _child_text(work, "issued")
    ruling.modified = _child_text(work, "modified")
    for element in _children(work, "zaaknummer"):
        ruling.zaaknummers += [z.strip() for z in re.split(r"[,;]", _plain(element)) if z.strip()]
    ruling.procedures = [_plain(e) for e in _children(work, "procedure") if _plain(e)]
    ruling.subjects = [(_plain(e), _attr(e, "resourceIdentifier"))
                       for e in _children(work, "subject")]
    ruling.spatial = _child_text(work, "spatial")
    for element in _children(work, "references"):
        resource = _attr(element, "resourceIdentifier")
        bwb = BWB_ID.search(resource)
        article = ARTICLE_PARAM.search(resource.replace("&amp;", "&"))
        ruling.references.append(Reference(
            label=_plain(element), resource=resource, bwb=bwb.group() if bwb else None,
            article=ids.article(article.group(1)) if article else None))
    for element in _children(work, "relation"):
        ruling.relations.append({
            "label": _plain(element),
            "ecli": ids.ecli(_attr(element, "resourceIdentifier")) or "",
            "type": _attr(element, "type"),
            "aanleg": _attr(element, "aanleg"),
            "gevolg": _attr(element, "gevolg"),
        })
    ruling.vindplaatsen = [_plain(li) for e in _children(work, "hasVersion")
                           for li in _descendants(e, "li") if _plain(li)]
    ruling.replaces = [_plain(e) for e in _children(work, "replaces") if _plain(e)]
    for element in _children(work, "isReplacedBy"):
        new = ids.ecli(_plain(element)) or ids.ecli(_attr(element, "resourceIdentifier"))
        if new is None:
            raise SourceFormatError(f"isReplacedBy without an ECLI: {_plain(element)!r}")
        ruling.replaced_by = new
    deeplink = next((d for d in descriptions if _attr(d, "about")), None)
    ruling.deeplink = _attr(deeplink, "about") if deeplink is not None else ""
    summaries = _children(root, "inhoudsindicatie")
    ruling.summary = _paragraphs(summaries[0]) if summaries else ""
    for kind in ("uitspraak", "conclusie"):
        bodies = _children(root, kind)
        if bodies:
            ruling.body, ruling.body_kind = _plain(bodies[0]), kind
            break
    return ruling


# --- the spider ---------------------------------------------------------------------------------

class RechtspraakSpider(FailureAccount, scrapy.Spider):
    name = "rechtspraak"
    source_title = "Rechtspraak — uitspraken strafrecht (open data)"
    source_url = "https://uitspraken.rechtspraak.nl/"

    def __init__(self, *args: Any, cursor: str | dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        #: {"modified": the newest feed ``updated`` received, as the feed wrote it}.
        self.cursor: dict[str, str] = json.loads(cursor) if isinstance(cursor, str) else dict(
            cursor or {})
        self.failures: list[tuple[str | None, str]] = []
        #: What happened to each ECLI the search returned (also in the crawl stats).
        self.counts: Counter[str] = Counter()
        self._seen: set[str] = set()
        self._emitted: set[str] = set()
        self._pending: Counter[str] = Counter()  # content URLs asked for, not yet answered
        self._search_done = False
        self._newest: tuple[datetime, str] | None = None
        self._since: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RechtspraakSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("WATCH_RECHTSPRAAK_URL").rstrip("/") + "/"
        spider.subject = settings.get("WATCH_RECHTSPRAAK_SUBJECT") or ""
        spider.kind = settings.get("WATCH_RECHTSPRAAK_TYPE") or ""
        spider.articles = {ids.article(a) or a.lower()
                           for a in settings.getlist("WATCH_RECHTSPRAAK_ARTICLES")}
        spider.page_size = settings.getint("WATCH_RECHTSPRAAK_PAGE_SIZE")
        spider.overlap = timedelta(hours=settings.getfloat("WATCH_RECHTSPRAAK_OVERLAP_HOURS"))
        spider.initial = timedelta(days=settings.getfloat("WATCH_RECHTSPRAAK_INITIAL_DAYS"))
        clock = settings.get("WATCH_CLOCK")
        spider.clock = datetime.fromisoformat(clock) if clock else None
        return spider

    # --- requests -------------------------------------------------------------------------

    def since(self, now: datetime | None = None) -> datetime:
        """Where this run starts: the cursor minus the overlap, or the initial window."""
        stored = self.cursor.get("modified")
        if stored:
            try:
                return parse_time(stored) - self.overlap
            except ValueError:
                self.fail(None, f"stored cursor {stored!r} is not a timestamp; "
                                "searching the initial window instead")
        return (now or self.clock or datetime.now(UTC)) - self.initial

    def search_url(self, since: datetime, offset: int = 0) -> str:
        params = [("type", self.kind)] if self.kind else []
        params += [("subject", self.subject)] if self.subject else []
        params += [
            ("modified", since.astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M:%S")),
            ("max", str(self.page_size)),
            ("from", str(offset)),
            ("sort", "ASC"),
        ]
        return f"{self.base_url}uitspraken/zoeken?{urlencode(params, quote_via=quote, safe=':/')}"

    def content_url(self, ecli: str) -> str:
        return f"{self.base_url}uitspraken/content?id={ecli}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._since = self.since()
        yield self._search(0)

    def _search(self, offset: int) -> scrapy.Request:
        assert self._since is not None
        return scrapy.Request(self.search_url(self._since, offset), callback=self.parse_search,
                              errback=self.on_error, cb_kwargs={"offset": offset},
                              headers={"Accept": "application/atom+xml, application/xml"})

    def _content(self, ecli: str, entry: dict[str, str], **extra: Any) -> scrapy.Request:
        url = self.content_url(ecli)
        self._pending[url] += 1
        callback = self.parse_replacement if "replaced" in extra else self.parse_content
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              cb_kwargs={"ecli": ecli, "entry": entry, **extra},
                              headers={"Accept": "application/xml"},
                              dont_filter="replaced" in extra)

    # --- parsing --------------------------------------------------------------------------

    def _count(self, what: str) -> None:
        self.counts[what] += 1
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"watch/rechtspraak/{what}")

    def _xml(self, response: Response, expected: str) -> Any | None:
        try:
            root = _parse_xml(response.body)
        except etree.XMLSyntaxError as exc:
            self.fail(response.url, f"response is not XML ({exc})")
            return None
        if _local(root) != expected:
            self.fail(response.url, f"expected <{expected}>, got <{_local(root)}> "
                                    "(the service changed its format?)")
            return None
        return root

    def parse_search(self, response: Response, offset: int) -> Iterator[Any]:
        root = self._xml(response, "feed")
        if root is None:
            return
        subtitle = _child_text(root, "subtitle")
        total_match = TOTAL.search(subtitle)
        total = int(total_match.group(1).replace(".", "")) if total_match else None
        if total is None:
            self.fail(response.url, f"feed subtitle without the number of ECLIs: {subtitle!r}")
        entries = _children(root, "entry")
        for entry in entries:
            yield from self._entry(entry, response.url)
        # Only a page that is not full ends the search: the total cannot, because with
        # 1-based offsets every page after the first repeats one ECLI (see the docstring).
        if len(entries) >= self.page_size:
            yield self._search(offset + len(entries))
        else:
            self._search_done = True
        if offset == 0 and total is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("watch/rechtspraak/found", total)

    def _entry(self, entry: Any, page_url: str) -> Iterator[Any]:
        ecli = ids.ecli(_child_text(entry, "id"))
        if ecli is None:
            self.fail(page_url, f"feed entry without an ECLI id: {_child_text(entry, 'id')!r}")
            return
        updated = _child_text(entry, "updated")
        try:
            when = parse_time(updated)
        except ValueError:
            self.fail(page_url, f"{ecli}: unreadable updated {updated!r}")
            return
        if self._newest is None or when > self._newest[0]:
            self._newest = (when, updated)
        links = _children(entry, "link")
        info = {"title": _child_text(entry, "title"), "updated": updated,
                "link": _attr(links[0], "href") if links else ""}
        if ecli in self._seen:
            self._count("duplicate")
            return
        self._seen.add(ecli)
        deleted = entry.get("deleted")
        if deleted:
            self._count("deleted")
            yield self.removal(ecli, deleted, info)
            return
        yield self._content(ecli, info)

    def parse_content(self, response: Response, ecli: str, entry: dict[str, str]
                      ) -> Iterator[Any]:
        self._answered(response.url)
        ruling = self._ruling(response, ecli)
        if ruling is None:
            return
        if ruling.ecli in self._emitted:
            self._count("duplicate")  # already kept as the replacement of an older ECLI
            return
        if not self.is_criminal(ruling):
            self._count("not_criminal")
            return
        cited = self.cited(ruling)
        if cited:
            yield self._emit(ruling, cited, entry)
        elif ruling.replaced_by:
            yield self._content(ruling.replaced_by, {}, replaced=ruling, replaced_entry=entry)
        else:
            self._count("not_cited")

    def parse_replacement(self, response: Response, ecli: str, entry: dict[str, str],
                          replaced: Ruling, replaced_entry: dict[str, str]) -> Iterator[Any]:
        """The new ECLI's document decides for a replaced record that did not qualify itself."""
        self._answered(response.url)
        ruling = self._ruling(response, ecli)
        if ruling is None:
            return
        cited = self.cited(ruling) if self.is_criminal(ruling) else {}
        if not cited:
            self._count("not_cited")
            return
        yield self._emit(replaced, cited, replaced_entry, replacement=ruling)
        if ruling.ecli not in self._emitted:
            yield self._emit(ruling, cited, {})

    def _ruling(self, response: Response, ecli: str) -> Ruling | None:
        root = self._xml(response, "open-rechtspraak")
        if root is None:
            return None
        try:
            ruling = parse_ruling(root)
        except SourceFormatError as exc:
            self.fail(response.url, f"{ecli}: {exc}")
            return None
        if ruling.ecli != ecli:
            self.fail(response.url, f"asked for {ecli}, the document is {ruling.ecli}")
            return None
        return ruling

    def _emit(self, ruling: Ruling, cited: dict[str, list[str]], entry: dict[str, str],
              replacement: Ruling | None = None) -> PolicyItem:
        self._count("kept")
        self._emitted.add(ruling.ecli)
        return self.item(ruling, cited, entry, datetime.now(UTC), replacement)

    # --- deciding ---------------------------------------------------------------------------

    def is_criminal(self, ruling: Ruling) -> bool:
        """False only when the metadata name rechtsgebieden and none is the monitored one."""
        if not ruling.subjects or not self.subject:
            return True  # metadata-only records may carry no rechtsgebied: the articles decide
        wanted = self.subject.rsplit("#", 1)[-1].casefold()
        return any(uri.rsplit("#", 1)[-1].casefold() == wanted for _, uri in ruling.subjects)

    def cited(self, ruling: Ruling) -> dict[str, list[str]]:
        """Monitored articles the ruling cites, by where: ``wetsverwijzing`` and/or ``tekst``."""
        found: dict[str, list[str]] = {}
        in_references = [a for a in ruling.criminal_code_articles() if a in self.articles]
        if in_references:
            found["wetsverwijzing"] = in_references
        text = f"{ruling.summary}\n{ruling.body}"
        in_text = [a for a in ids.criminal_code_articles_in(text) if a in self.articles]
        if in_text:
            found["tekst"] = in_text
        return found

    # --- items ------------------------------------------------------------------------------

    def item(self, ruling: Ruling, cited: dict[str, list[str]], entry: dict[str, str],
             fetched_at: datetime, replacement: Ruling | None = None) -> PolicyItem:
        matched = list(dict.fromkeys(a for where in cited.values() for a in where))
        articles = list(dict.fromkeys(ruling.criminal_code_articles() + matched))
        label = ", ".join(p for p in (ruling.instantie, dutch_date(ruling.date)) if p)
        summary = ruling.summary.split("\n", 1)[0]
        if summary:
            title = f"{label} — {_shorten(summary)}" if label else _shorten(summary)
        else:
            title = f"{ruling.kind or 'Uitspraak'} {label} ({ruling.ecli})".replace("  ", " ")
        replaced_by = ruling.replaced_by or (replacement.ecli if replacement else None)
        if replaced_by:
            title += f" (ECLI vervangen door {replaced_by})"
        eclis = [ruling.ecli, *([replaced_by] if replaced_by else [])]
        eclis += [e for r in ruling.replaces if (e := ids.ecli(r)) and e == r.upper()]
        ljns = [r for r in ruling.replaces if LJN.match(r)]
        identifiers = {
            "ecli": list(dict.fromkeys(eclis)),
            "ljn": ljns,
            "artikel": articles,
            "bwb": list(dict.fromkeys(r.bwb for r in ruling.references if r.bwb)),
            "zaaknummer": ruling.zaaknummers,
        }
        later = [r["label"] for r in ruling.relations if r["aanleg"].endswith("latereAanleg")]
        status = {"latere_aanleg": "; ".join(later)} if later else {}
        if replaced_by:
            status["vervangen_door"] = replaced_by
        subjects = [label for label, _ in ruling.subjects if label]
        heading = " ".join(p for p in (ruling.kind, ruling.instantie) if p)
        if ruling.date:
            heading += f", {(ruling.date_label or 'datum').lower()} {dutch_date(ruling.date)}"
        if ruling.zaaknummers:
            heading += f", zaaknummer {', '.join(ruling.zaaknummers)}"
        lines = [
            title,
            heading,
            f"Rechtsgebied: {'; '.join(subjects)}" if subjects else "",
            f"Procedure: {'; '.join(ruling.procedures)}" if ruling.procedures else "",
            "Wetsverwijzingen: " + "; ".join(r.label or r.resource for r in ruling.references)
            if ruling.references else "",
            "Artikelen Wetboek van Strafrecht: " + ", ".join(f"{a} Sr" for a in articles)
            if articles else "",
            ruling.summary,
            *[f"Formele relatie: {r['label']}" for r in ruling.relations],
            "Alleen metadata gepubliceerd: de tekst is (nog) niet beschikbaar."
            if ruling.metadata_only else "",
            f"Deze ECLI is vervangen door {replaced_by}." if replaced_by else "",
        ]
        url = (web_address(entry.get("link")) or web_address(ruling.deeplink)
               or f"https://uitspraken.rechtspraak.nl/inziendocument?id={ruling.ecli}")
        return PolicyItem(
            source=self.name,
            key=ruling.ecli,
            url=url,
            fetched_at=fetched_at,
            title=title,
            text="\n".join(dict.fromkeys(line for line in lines if line)),
            doc_type=ruling.kind or None,
            published_at=utc_day(ruling.issued) if ruling.issued else None,
            identifiers={scheme: values for scheme, values in identifiers.items() if values},
            status=status,
            meta={
                "type": ruling.kind,
                "instantie": ruling.instantie,
                "instantie_uri": ruling.instantie_uri,
                "datum": ruling.date,
                "datum_soort": ruling.date_label,
                "publicatiedatum": ruling.issued,
                "modified": ruling.modified,
                "feed_updated": entry.get("updated", ""),
                "procedure": ruling.procedures,
                "rechtsgebied": subjects,
                "zittingsplaats": ruling.spatial,
                "wetsverwijzingen": [
                    {"label": r.label, "id": r.resource, "bwb": r.bwb, "artikel": r.article}
                    for r in ruling.references],
                "relaties": ruling.relations,
                "vindplaatsen": ruling.vindplaatsen,
                "vervangt": ruling.replaces,
                "vervangen_door": replaced_by,
                "metadata_only": ruling.metadata_only,
                "tekstsoort": ruling.body_kind,
                "tekst_tekens": len(ruling.body),
                "gematchte_artikelen": matched,
                "gematcht_in": sorted(cited),
                "deeplink": ruling.deeplink,
            },
        )

    def removal(self, ecli: str, deleted: str, entry: dict[str, str]) -> PolicyItem:
        """A feed entry marked deleted: the text (``doc``) or the ECLI (``ecli``) was withdrawn."""
        return PolicyItem(
            source=self.name,
            key=ecli,
            url=(web_address(entry.get("link"))
                 or f"https://uitspraken.rechtspraak.nl/inziendocument?id={ecli}"),
            fetched_at=datetime.now(UTC),
            title=entry.get("title") or ecli,
            identifiers={"ecli": [ecli]},
            meta={"deleted": deleted, "feed_updated": entry.get("updated", "")},
            removed=True,
        )

    # --- the run's account ------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        if request is not None:
            self._answered(request.url)
        super().on_error(failure)

    def _answered(self, url: str) -> None:
        self._pending[url] -= 1
        if self._pending[url] <= 0:
            del self._pending[url]

    def next_cursor(self) -> dict[str, str]:
        """Advanced only when every search page and every content document came back fine, and
        never past the newest ``updated`` actually received."""
        if self.failures or not self._search_done or self._pending:
            return dict(self.cursor)
        stored = self.cursor.get("modified")
        if self._newest is not None:
            if stored:
                try:
                    if parse_time(stored) >= self._newest[0]:
                        return dict(self.cursor)
                except ValueError:
                    pass
            return {"modified": self._newest[1]}
        if not stored and self._since is not None:
            return {"modified": self._since.astimezone(AMSTERDAM).isoformat(timespec="seconds")}
        return dict(self.cursor)

    def closed(self, reason: str) -> None:
        self.logger.info("rechtspraak.summary reason=%s %s", reason,
                         " ".join(f"{k}={v}" for k, v in sorted(self.counts.items())))
