"""Property-based fuzzing of every parser: each spider callback on mutated and generated
responses, and the query language on arbitrary queries and texts.

Properties:

- a spider callback lets no exception escape (what goes wrong is recorded in ``spider.failures``);
  what it yields is a Request with a callback, or a well-formed PolicyItem: typed fields, aware
  datetimes, identifiers in their canonical form, ``meta`` that a JSON column takes, no NUL
  character (PostgreSQL refuses it in text and JSONB), accepted by NormalizePipeline;
- ``monitors.query.parse`` raises only QuerySyntaxError, with a position inside the query; a
  parsed query matches any text without error; ``storage.search.search`` on a real archive (the
  compiled FTS5 / tsquery expression executed) raises nothing else either.

Seeds are real responses: the bundled recording (each spider's own chain of requests, replayed
up to the callback being fuzzed, so it runs with the state and arguments a crawl gives it) and
the saved responses in tests/fixtures/<source>/. Mutations: byte flips, truncation, deleted,
duplicated and inserted bytes; deleted, duplicated, renamed and emptied elements, random Unicode
in texts and attributes (XML/HTML); deleted, duplicated and replaced values and random Unicode
(JSON); the body in another encoding than it claims; a wrong Content-Type; and documents
generated from the seed's own vocabulary of elements or keys.

Examples per test come from the Hypothesis profile (tests/conftest.py): small by default, so CI
stays quick; ``--hypothesis-profile=long`` for a deep run.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import lxml.html
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from lxml import etree
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.spiderloader import SpiderLoader
from scrapy.statscollectors import MemoryStatsCollector
from sqlalchemy import Engine

from crawler.items import PolicyItem
from crawler.pipelines import NormalizePipeline
from crawler.replay import read_manifest, read_response
from crawler.runner import project_settings, spider_names
from monitors import identifiers as ids
from monitors.errors import QuerySyntaxError
from monitors.matching import MatchDoc, matches_query
from monitors.query import FIELDS, parse
from storage.archive import Observation, ensure_source, record_observation
from storage.columns import jsonable
from storage.db import make_engine, session_factory, upgrade
from storage.search import compile_query, search
from tests.conftest import FIXTURES, IN_CI, ROOT, SHARED

RECORDINGS = ROOT / "crawler" / "recordings" / "demo"
SPIDERS = [*spider_names(), "feed", "page"]

# --- reaching a callback with a fresh spider -------------------------------------------------


@cache
def _settings(overrides: tuple[tuple[str, Any], ...]) -> Any:
    return project_settings(**dict(overrides))


def new_spider(name: str, overrides: tuple[tuple[str, Any], ...] = (), **kwargs: Any) -> Spider:
    """A spider as the runner makes it (project settings plus ``overrides``), with stats."""
    settings = _settings(overrides)
    cls = SpiderLoader.from_settings(settings).load(name)
    crawler = Crawler(cls, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    return cls.from_crawler(crawler, **kwargs)


def start_requests(spider: Spider) -> list[Request]:
    async def collect() -> list[Request]:
        return [r async for r in spider.start()]

    return asyncio.run(collect())


@cache
def _read_recorded(directory: Path, url: str, method: str, body: bytes) -> Any:
    return read_response(directory, url, method, body)  # read once: examples replay from memory


def recorded(directory: Path, request: Request) -> Response | None:
    """The recorded response to ``request``, after the redirects the recording holds."""
    for _ in range(5):
        found = _read_recorded(directory, request.url, request.method, request.body)
        if found is None:
            return None
        meta, body = found
        headers = Headers(meta.get("headers") or {})
        status = int(meta["status"])
        if 300 <= status < 400 and b"Location" in headers:
            request = request.replace(url=urljoin(request.url, headers[b"Location"].decode()))
            continue
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=status, headers=headers, body=body, request=request)
    return None


def _requests_out(request: Request, response: Response) -> list[Request]:
    out = request.callback(response, **request.cb_kwargs)
    return [r for r in (out or []) if isinstance(r, Request)]


@dataclass(frozen=True)
class Seed:
    """A real response to fuzz, and how a fresh spider reaches the request it answers."""

    label: str
    reach: Callable[[], tuple[Spider, Request]]
    url: str
    body: bytes
    content_type: str

    def __repr__(self) -> str:
        return f"Seed({self.label!r})"


def replay_path(name: str, overrides: tuple[tuple[str, Any], ...], kwargs: dict[str, Any],
                week: Path, path: tuple[int, ...]) -> tuple[Spider, Request]:
    """A fresh spider, and the request reached by following ``path`` (the index of the request
    among each callback's requests) from its start over the recording ``week``."""
    spider = new_spider(name, overrides, **copy.deepcopy(kwargs))
    request = start_requests(spider)[path[0]]
    for index in path[1:]:
        response = recorded(week, request)
        assert response is not None
        request = _requests_out(request, response)[index]
    return spider, request


def recording_seeds(name: str) -> list[Seed]:
    """Every callback a crawl of the bundled recording runs for spider ``name``, week by week
    (a week without a start cursor in its manifest continues from the previous week's)."""
    seeds: list[Seed] = []
    cursor: dict[str, Any] | None = None
    for week in sorted(RECORDINGS.iterdir()):
        manifest = read_manifest(week)
        if name not in manifest.get("sources", {}):
            continue
        cursor = manifest["sources"][name].get("cursor") or cursor
        overrides = (("WATCH_CLOCK", manifest["recorded_at"]),)
        kwargs = {"cursor": dict(cursor)} if cursor else {}
        spider = new_spider(name, overrides, **copy.deepcopy(kwargs))
        queue = [((i,), r) for i, r in enumerate(start_requests(spider))]
        while queue:
            path, request = queue.pop(0)
            response = recorded(week, request)
            if response is None or response.status >= 400:
                continue
            seeds.append(Seed(
                f"{week.name}:{request.callback.__name__}:{response.url} {request.cb_kwargs}",
                partial(replay_path, name, overrides, kwargs, week, path), response.url,
                response.body, response.headers.get(b"Content-Type", b"").decode("latin-1")))
            queue += [(path + (i,), r) for i, r in enumerate(_requests_out(request, response))]
        cursor = spider.next_cursor() if hasattr(spider, "next_cursor") else None
    return seeds


CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def _fixture(source: str, name: str) -> tuple[bytes, str]:
    path = FIXTURES / source / name
    return path.read_bytes(), CONTENT_TYPES[path.suffix]


def by_callback(seeds: list[Seed], callback: str, where: str = "") -> Seed:
    """The first recorded seed of ``callback`` whose label contains ``where``."""
    return next(s for s in seeds if f":{callback}:" in s.label and where in s.label)


def fixture_seeds(name: str, recorded_seeds: list[Seed]) -> list[Seed]:
    """The saved responses in tests/fixtures/<source>/ (outside the recording), each at the
    callback it answers: a recorded context where one fits, else the request built as the
    spider's own tests build it."""

    def at(context: Seed, source: str, fixture: str) -> Seed:
        body, content_type = _fixture(source, fixture)
        return Seed(f"fixture:{fixture}", context.reach, context.url, body, content_type)

    def made(label: str, reach: Callable[[], tuple[Spider, Request]], source: str,
             fixture: str) -> Seed:
        body, content_type = _fixture(source, fixture)
        _, request = reach()
        return Seed(f"fixture:{label}", reach, request.url, body, content_type)

    if name == "tweedekamer":
        return [at(by_callback(recorded_seeds, "parse_page", "Besluit"), name,
                   "odata-besluit-expand-page-truncated-with-nextlink.json")]
    if name == "officielebekendmakingen":
        context = by_callback(recorded_seeds, "parse_page")
        return [at(context, name, f) for f in (
            "sru-page1-of-2.xml", "sru-page2-of-2.xml", "sru-empty.xml",
            "sru-diagnostic-query-syntax.xml", "sru-record-gmb-2023-174296.xml")]
    if name == "eurlex":
        procedure = by_callback(recorded_seeds, "parse_results", "procedure")
        act = by_callback(recorded_seeds, "parse_results", "kind='act'")
        return [at(procedure, name, f) for f in (
            "sparql-procedure-2024-0035-page1-of-2.json",
            "sparql-procedure-2024-0035-page2-of-2.json",
            "sparql-procedure-row-without-id.json", "cellar-sparql-json-empty-bindings.json",
            "soap-searchresults-2hits.xml")] + [at(act, name, f) for f in (
                "sparql-act-32024L1712.json", "cellar-sparql-json-celex-32011L0092-metadata.json")]
    if name == "europarl":
        return [
            made("api-procedure", partial(_europarl, "2025/2691(RSP)", ""), name,
                 "epapi-v2-procedure-2025-2691-ukrainian-children.json"),
            at(by_callback(recorded_seeds, "parse_document"), name,
               "epapi-v2-document-RC-10-2025-0249.json"),
            made("oeil", partial(_europarl, "2024/0258(COD)", "oeil"), name,
                 "oeil-procedure-file-2024-0258-COD.html"),
            at(by_callback(recorded_seeds, "parse_votes"), name,
               "plenary-vot-list-2024-04-23-anti-trafficking-directive.xml"),
        ]
    if name == "rechtspraak":
        search = by_callback(recorded_seeds, "parse_search")
        seeds = [at(search, name, f) for f in (
            "zoeken-page1-of-3.xml", "zoeken-page2-of-3.xml", "zoeken-page3-of-3.xml",
            "zoeken-empty.xml", "zoeken-atom-feed-10-entries-2016.xml")]
        for fixture in sorted((FIXTURES / name).glob("content-*.xml")):
            ecli = re.sub(r"-.*", "", fixture.stem.removeprefix("content-")).replace("_", ":")
            seeds.append(made(fixture.name, partial(_rechtspraak_content, ecli), name,
                              fixture.name))
        seeds.append(made("replacement", _rechtspraak_replacement, name,
                          "demo/content-ECLI_NL_RBROT_2026_10873.xml"))
        return seeds
    if name == "rijksoverheid":
        rss = by_callback(recorded_seeds, "parse_rss")
        seeds = [at(rss, name, f) for f in (
            "search-rss-drift.xml", "search-rss-empty.xml", "search-rss-full-20.xml",
            "search-rss-mensenhandel.xml", "search-rss-uitbuiting.xml")]
        seeds.append(at(by_callback(recorded_seeds, "parse_page"), name, "kamerbrief-page.html"))
        for kind, fixture in (("news", "classic-news-mensenhandel.json"),
                              ("documents", "classic-documents-mensenhandel.xml")):
            seeds.append(made(fixture, partial(_rijksoverheid_classic, kind), name, fixture))
        return seeds
    if name == "eerstekamer":
        return [at(by_callback(recorded_seeds, "parse_bill", "36547"), name,
                   "wetsvoorstel-36547-other-layout.html")]
    if name == "raadvanstate":
        return [at(by_callback(recorded_seeds, "parse_listing"), name, "zoeken-pagina-2.html")]
    return []


def _europarl(reference: str, step: str) -> tuple[Spider, Request]:
    """The API request of a procedure, or (``step="oeil"``) its OEIL procedure file's."""
    spider = new_spider("europarl")
    spider.procedures = [reference]
    [request] = start_requests(spider)
    if step == "oeil":
        request = spider._oeil_request(request.cb_kwargs["run"])
    return spider, request


def _rechtspraak_content(ecli: str) -> tuple[Spider, Request]:
    spider = new_spider("rechtspraak", cursor={"modified": "2026-11-19T11:05:13+01:00"})
    spider._since = spider.since()
    spider._search_done = True
    return spider, spider._content(ecli, {"title": ecli, "updated": "2026-11-24T10:17:52+01:00",
                                          "link": ""})


def _rechtspraak_replacement() -> tuple[Spider, Request]:
    """The request for the replacement of a replaced ECLI (parse_replacement)."""
    spider, old = _rechtspraak_content("ECLI:NL:RBROT:2026:10801")
    body = (FIXTURES / "rechtspraak" / "content-ECLI_NL_RBROT_2026_10801-isReplacedBy.xml")
    response = responsetypes.from_args(headers=Headers({"Content-Type": "application/xml"}),
                                       url=old.url)(url=old.url, body=body.read_bytes(),
                                                    request=old)
    [follow] = _requests_out(old, response)
    return spider, follow


def _rijksoverheid_classic(kind: str) -> tuple[Spider, Request]:
    spider = new_spider("rijksoverheid", (("WATCH_RIJKSOVERHEID_ROUTE", "classic"),
                                          ("WATCH_CLOCK", "2026-11-27T17:00:00+00:00")),
                        cursor={"date": "2026-05-15"})
    return spider, next(r for r in start_requests(spider) if r.cb_kwargs["kind"] == kind)


def _generic(name: str, url: str, **kwargs: Any) -> tuple[Spider, Request]:
    spider = new_spider(name, source=f"{name}-fuzz", url=url, **kwargs)
    return spider, start_requests(spider)[0]


def generic_seeds(name: str) -> list[Seed]:
    """The researcher-added feed and page spiders: every feed and page we have."""
    url = "https://www.example.org/bron"
    if name == "feed":
        files = sorted((FIXTURES / "feed").glob("*.xml")) + sorted(
            (FIXTURES / "rijksoverheid").glob("search-rss-*.xml"))
        reach = partial(_generic, "feed", url)
        return [Seed(f"fixture:{p.name}", reach, url, p.read_bytes(), "application/rss+xml")
                for p in files]
    files = sorted((FIXTURES / "page").glob("*.html")) + [
        FIXTURES / "rijksoverheid" / "kamerbrief-page.html",
        FIXTURES / "raadvanstate" / "zoeken-pagina-2.html"]
    seeds = [Seed(f"fixture:{p.name}", partial(_generic, "page", url), url, p.read_bytes(),
                  "text/html; charset=utf-8") for p in files]
    seeds.append(Seed("fixture:selector", partial(_generic, "page", url,
                                                  selector="section.lijst article h2"), url,
                      (FIXTURES / "page" / "nr-publicaties-v1.html").read_bytes(),
                      "text/html; charset=utf-8"))
    return seeds


@cache
def seeds_of(name: str) -> list[Seed]:
    if name in ("feed", "page"):
        return generic_seeds(name)
    found = recording_seeds(name)
    return found + fixture_seeds(name, found)


# --- mutations -------------------------------------------------------------------------------

#: Text for fields: any Unicode that XML can carry, with a bias to what breaks parsers.
xml_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "NaN", "null", "1e309",
                     "2026-02-30", "0000-00-00", "9999-12-31T23:59:59Z", "31/02/2026",
                     "ECLI:NL:XX:2026:1", "kst-36547-", "2022/0155(", "&amp;", "]]>",
                     "\u202e\u200b\ufeff", "\U0001f600" * 3, "é" * 200]),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=False), xml_text,
                         st.text(max_size=20))  # JSON strings may hold control characters


def json_values(keys: list[str]) -> st.SearchStrategy[Any]:
    key = st.sampled_from(keys) if keys else st.text(max_size=8)
    return st.recursive(json_scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(key, inner, max_size=4)), max_leaves=10)


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _json_paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _json_paths(child, path + (index,))
    return found


def _json_keys(value: Any) -> list[str]:
    return sorted({p[-1] for p in _json_paths(value) if p and isinstance(p[-1], str)})


@st.composite
def json_mutation(draw: st.DrawFn, body: bytes) -> bytes:
    document = json.loads(body)
    keys = _json_keys(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = _json_paths(document)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["delete", "replace", "text", "duplicate", "generate"]))
        if not path:
            document = draw(json_values(keys)) if op == "generate" else document
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if op == "delete":
            del parent[last]
        elif op == "replace":
            parent[last] = draw(json_scalars)
        elif op == "text":
            parent[last] = draw(xml_text)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        else:
            parent[last] = draw(json_values(keys))
    return json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8")


def _is_html(body: bytes) -> bool:
    head = body[:2000].lower()
    return b"<html" in head or b"<!doctype html" in head


@st.composite
def markup_mutation(draw: st.DrawFn, body: bytes) -> bytes:
    html = _is_html(body)
    if html:
        root = lxml.html.document_fromstring(body)
    else:
        root = etree.fromstring(body, etree.XMLParser(recover=True, resolve_entities=False,
                                                      no_network=True, huge_tree=False))
        if root is None:
            return body
    for _ in range(draw(st.integers(1, 3))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        target = elements[draw(st.integers(0, len(elements) - 1))]
        parent = target.getparent()
        op = draw(st.sampled_from(["delete", "duplicate", "text", "attribute", "rename",
                                   "empty", "tail"]))
        if op == "delete" and parent is not None:
            parent.remove(target)
        elif op == "duplicate" and parent is not None:
            parent.insert(parent.index(target), copy.deepcopy(target))
        elif op == "attribute" and target.attrib:
            target.set(draw(st.sampled_from(sorted(target.attrib))), draw(xml_text))
        elif op == "rename":
            target.tag = draw(st.sampled_from(sorted({e.tag for e in elements})))
        elif op == "empty":
            for child in list(target):
                target.remove(child)
            target.text = None
        elif op == "tail" and parent is not None:
            target.tail = draw(xml_text)
        else:
            target.text = draw(xml_text)
    if html:
        return lxml.html.tostring(root, encoding="utf-8")
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


@st.composite
def generated_markup(draw: st.DrawFn, body: bytes) -> bytes:
    """A new document built from the seed's own element and attribute names."""
    html = _is_html(body)
    parser = (lxml.html.HTMLParser() if html else
              etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    root = etree.fromstring(body, parser)
    if root is None:
        return body
    tags = sorted({e.tag for e in root.iter() if isinstance(e.tag, str)})
    attributes = sorted({a for e in root.iter() if isinstance(e.tag, str) for a in e.attrib
                         if re.fullmatch(r"(\{[^}]*\})?[A-Za-z_][\w.-]*", a)})
    tag = st.sampled_from(tags)

    def build(shape: Any) -> Any:
        name, attrs, text, children = shape
        element = etree.Element(name, {k: v for k, v in attrs})
        element.text = text
        for child in children:
            element.append(build(child))
        return element

    leaf = st.tuples(tag, st.lists(st.tuples(st.sampled_from(attributes or ["id"]), xml_text),
                                   max_size=2), xml_text, st.just(()))
    shape = st.recursive(leaf, lambda inner: st.tuples(
        tag, st.just(()), st.one_of(st.none(), xml_text), st.lists(inner, max_size=4)),
        max_leaves=20)
    document = build(draw(st.tuples(st.just(root.tag), st.just(()), st.none(),
                                    st.lists(shape, max_size=5))))
    return etree.tostring(document, encoding="utf-8", method="html" if html else "xml")


@st.composite
def byte_mutation(draw: st.DrawFn, body: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 4))):
        if not body:
            return draw(st.binary(max_size=64))
        i = draw(st.integers(0, len(body) - 1))
        j = draw(st.integers(i, min(len(body), i + 2000)))
        op = draw(st.sampled_from(["flip", "truncate", "delete", "duplicate", "insert"]))
        if op == "flip":
            body = body[:i] + bytes([body[i] ^ draw(st.integers(1, 255))]) + body[i + 1:]
        elif op == "truncate":
            body = body[:i]
        elif op == "delete":
            body = body[:i] + body[j:]
        elif op == "duplicate":
            body = body[:j] + body[i:j] + body[j:]
        else:
            body = body[:i] + draw(st.one_of(
                st.binary(max_size=16), st.text(max_size=8).map(str.encode),
                st.sampled_from([b"\x00", b"\xff\xfe", b"<", b"&", b"]]>", b"{", b"\"",
                                 b"<!--", b"<![CDATA[", b"\xc3"]))) + body[i:]
    return body


@st.composite
def re_encoded(draw: st.DrawFn, body: bytes) -> bytes:
    """The text in another encoding than the document (and its Content-Type) claims."""
    text = body.decode("utf-8", errors="replace")
    codec = draw(st.sampled_from(["latin-1", "cp1252", "utf-16", "utf-16-be", "utf-8-sig",
                                  "utf-32", "iso-8859-7", "shift_jis", "ascii"]))
    return text.encode(codec, errors=draw(st.sampled_from(["replace", "ignore",
                                                            "xmlcharrefreplace"])))


WRONG_TYPES = ["text/html", "text/html; charset=utf-8", "application/json", "application/xml",
               "text/xml; charset=iso-8859-1", "application/rss+xml", "application/atom+xml",
               "text/plain", "application/octet-stream", "application/pdf", "image/png",
               "text/html; charset=no-such-encoding", "application/json; charset=utf-16", ""]


@st.composite
def mutated(draw: st.DrawFn, seed: Seed) -> tuple[bytes, str]:
    body = seed.body
    stripped = body.lstrip()
    kinds = ["bytes", "encoding", "empty"]
    if stripped[:1] in (b"{", b"["):
        kinds += ["json", "json", "json"]
    elif stripped[:1] == b"<":
        kinds += ["markup", "markup", "markup", "generated"]
    kind = draw(st.sampled_from(kinds))
    if kind == "json":
        body = draw(json_mutation(body))
    elif kind == "markup":
        body = draw(markup_mutation(body))
    elif kind == "generated":
        body = draw(generated_markup(body))
    elif kind == "encoding":
        body = draw(re_encoded(body))
    elif kind == "empty":
        body = draw(st.sampled_from([b"", b" ", b"\n", b"null", b"{}", b"[]", b"<a/>"]))
    if kind != "empty" and draw(st.integers(0, 3)) == 0:
        body = draw(byte_mutation(body))  # and on top of that, bytes
    content_type = draw(st.one_of(st.just(seed.content_type), st.sampled_from(WRONG_TYPES))) \
        if draw(st.integers(0, 4)) == 0 else seed.content_type
    return body, content_type


# --- what must hold of what a callback yields ------------------------------------------------

#: Identifier schemes with one canonical spelling (monitors.identifiers), and that spelling.
CANONICAL: dict[str, Callable[[str], str | None]] = {
    "kamerstuk": ids.kamerstuk, "verwijzing": ids.kamerstuk, "celex": ids.celex,
    "ecli": ids.ecli, "eli": ids.eli, "procedure": ids.procedure,
    "ep_document": ids.ep_document, "rvs_kenmerk": ids.rvs_kenmerk, "artikel": ids.article,
}


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings_in(k) + _strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings_in(v)]
    return []


def assert_well_formed(item: PolicyItem, spider: Spider) -> None:
    assert isinstance(item, PolicyItem), f"yielded {type(item).__name__}"
    for name in ("source", "key", "url", "title", "text"):
        assert isinstance(getattr(item, name), str), f"{name} is {getattr(item, name)!r}"
    assert item.source and item.key and item.url, item
    assert re.match(r"https?://", item.url), f"url {item.url!r}"
    assert item.doc_type is None or isinstance(item.doc_type, str), item.doc_type
    assert isinstance(item.fetched_at, datetime) and item.fetched_at.tzinfo is not None
    assert item.published_at is None or (
        isinstance(item.published_at, datetime) and item.published_at.tzinfo is not None
    ), f"published_at {item.published_at!r}"
    assert isinstance(item.removed, bool)
    assert item.fingerprint is None or isinstance(item.fingerprint, str)
    assert isinstance(item.status, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in item.status.items()), item.status
    assert isinstance(item.identifiers, dict)
    for scheme, values in item.identifiers.items():
        assert isinstance(scheme, str) and isinstance(values, list), (scheme, values)
        for value in values:
            assert isinstance(value, str) and value.strip(), f"{scheme} value {value!r}"
            if scheme in CANONICAL:
                assert CANONICAL[scheme](value) == value, f"{scheme} {value!r} not canonical"
    assert isinstance(item.meta, dict)
    json.dumps(jsonable(item.meta))  # the JSON column takes it
    everything = [item.source, item.key, item.url, item.title, item.text, item.doc_type or "",
                  item.fingerprint or "", *_strings_in(item.identifiers),
                  *_strings_in(item.status), *_strings_in(jsonable(item.meta))]
    assert not [s for s in everything if "\x00" in s], "NUL character (PostgreSQL refuses it)"
    assert NormalizePipeline.from_crawler(spider.crawler).process_item(item) is item


def run_callback(spider: Spider, request: Request, url: str, body: bytes,
                 content_type: str) -> list[Any]:
    headers = Headers({"Content-Type": content_type} if content_type else {})
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    response = cls(url=url, status=200, headers=headers, body=body,
                   request=request.replace(url=url))
    out = request.callback(response, **request.cb_kwargs)
    return list(out or [])


def check_outputs(spider: Spider, outputs: list[Any]) -> None:
    for output in outputs:
        if isinstance(output, Request):
            assert callable(output.callback), output
            assert re.match(r"https?://", output.url), output.url
        else:
            assert_well_formed(output, spider)
    assert all(isinstance(reason, str) for _, reason in getattr(spider, "failures", []))


@pytest.mark.parametrize("name", SPIDERS)
def test_every_seed_parses_as_recorded(name: str) -> None:
    """The seeds themselves: each callback, unmutated, gives well-formed output."""
    seeds = seeds_of(name)
    assert seeds, f"no seeds for {name}"
    for seed in seeds:
        spider, request = seed.reach()
        check_outputs(spider, run_callback(spider, request, seed.url, seed.body,
                                           seed.content_type))


@pytest.mark.parametrize("name", SPIDERS)
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_spider_callbacks_survive_mutated_responses(name: str, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(seeds_of(name)), label="seed")
    body, content_type = data.draw(mutated(seed), label="body")
    note(f"Content-Type {content_type!r}; body {body[:1500]!r}")
    spider, request = seed.reach()
    outputs = run_callback(spider, request, seed.url, body, content_type)
    check_outputs(spider, outputs)


def test_every_shared_feed_file_is_handled() -> None:
    """Every file of ../shared/fixtures/feeds-misc/: a copy in tests/fixtures/feed/ with its
    expected outcome in test_spider_feed.CORPUS, and the feed spider handles it as it is."""
    from tests.test_spider_feed import CORPUS

    shared = SHARED / "fixtures" / "feeds-misc"
    if not shared.is_dir():
        message = f"{shared} is not there"
        if IN_CI:
            pytest.fail(message + " (CI=true: the shared fixtures must be checked)")
        pytest.skip(message)
    files = sorted(shared.iterdir())
    assert files
    for path in files:
        assert path.name in CORPUS, f"{path.name} has no expected outcome in test_spider_feed"
        assert (FIXTURES / "feed" / path.name).read_bytes() == path.read_bytes()
        spider, request = _generic("feed", "https://www.example.org/feed")
        check_outputs(spider, run_callback(spider, request, request.url, path.read_bytes(),
                                           "application/xml"))


# --- the query language ----------------------------------------------------------------------

WORDS = ["mensenhandel", "uitbuiting", "seksuele", "kinderen", "273f", "a", "é", "ß", "ǅ",
         "İ", "ﬁ", "ÄÖÜ", "noord-afrika", "x" * 60, "١٢٣", "日本", "\u0301", "_", "'", ".."]
TOKENS = st.one_of(
    st.sampled_from(WORDS), st.sampled_from(["AND", "OR", "NOT", "-", "(", ")", "\"", "*", "~",
                                             "~5", "~50", "~101", "~0", ":", "::"]),
    st.builds(lambda f, v: f"{f}:{v}", st.sampled_from(sorted(FIELDS) + ["x", "Dossier"]),
              st.one_of(st.sampled_from([
                  "36547", "36800-VI", "2022/0155(COD)", "2022-155", "52022PC0209",
                  "COM(2022) 209", "kst-36547-3", "ECLI:NL:HR:2024:123", "273f",
                  "\"art. 273f Sr\"", "tweedekamer", "\"brief regering\"", "2026", "2026-11",
                  "2026-11-17", ">=2026-06-01", "2026-01-01..2026-06-30", "..2026", "2026..",
                  ">9999-12-31", "<0001-01-01", ">=9999", "<=0001", "9999-12..", "0000",
                  "2026-13", "2026-02-30", "\"\"", "(", ")"]), st.text(max_size=8))),
    st.builds(lambda w, n: f'"{w}"~{n}', st.sampled_from(["a b", "hulp slachtoffers", " ", "x"]),
              st.integers(0, 10**6)),
    st.text(max_size=6),
)
queries = st.one_of(
    st.text(max_size=60),
    st.lists(TOKENS, max_size=12).map(" ".join),
    st.lists(TOKENS, max_size=12).map("".join),
    st.integers(1, 3000).map(lambda n: "(" * n + "a" + ")" * n),
    st.integers(1, 3000).map(lambda n: "NOT " * n + "a"),
    st.integers(1, 3000).map(lambda n: "- " * n + "a"),
    st.integers(1, 150).map(lambda n: "(a OR NOT " * n + "b" + ")" * n),
    st.integers(1, 150).map(lambda n: '(x "a b"~3 OR -' * n + "b" + ")" * n),
)
texts = st.one_of(st.text(max_size=200),
                  st.lists(st.sampled_from(WORDS + ["273f Sr", "kst-36547-3", "2022/0155(COD)",
                                                    "COM(2022) 209", "ECLI:NL:HR:2024:123"]),
                           max_size=30).map(" ".join))


def parsed_or_clean_error(query: str) -> Any:
    """The parse tree, or None after checking the error is the clean one."""
    try:
        return parse(query)
    except QuerySyntaxError as exc:
        assert exc.query == query
        assert 0 <= exc.position <= len(query), f"position {exc.position} of {len(query)}"
        assert exc.expected and str(exc)
        exc.pointer()
        return None


@given(query=queries, text=texts, title=texts)
def test_query_parser_and_matcher(query: str, text: str, title: str) -> None:
    node = parsed_or_clean_error(query)
    if node is None:
        return
    str(node)  # the canonical text explanations show
    doc = MatchDoc(title=title, text=text, source="tweedekamer", doc_type="Motie",
                   published_at=datetime(2026, 11, 24, tzinfo=UTC),
                   identifiers={"dossier": ["36547"], "kamerstuk": ["kst-36547-3"]})
    matches_query(query, doc)
    for dialect in ("sqlite", "postgresql"):
        compile_query(query, dialect)


def _search_archive(url: str) -> Engine:
    """An archive with a few documents whose words the generated queries use."""
    engine = make_engine(url)
    upgrade(engine)
    Session = session_factory(engine)
    now = datetime(2026, 11, 27, tzinfo=UTC)
    with Session.begin() as session:
        source = ensure_source(session, "tweedekamer", kind="spider", title="TK", url=None)
        for n, (title, text) in enumerate([
            ("Mensenhandel en uitbuiting", "Seksuele uitbuiting van kinderen; art. 273f Sr."),
            ("Brief regering", "kst-36547-3 over 2022/0155(COD) en COM(2022) 209"),
            ("日本 ÄÖÜ noord-afrika", "hulp aan slachtoffers " * 20),
        ]):
            record_observation(session, source, Observation(
                source="tweedekamer", key=f"k{n}", url=f"https://example.org/{n}",
                fetched_at=now, title=title, text=text, doc_type="Motie",
                published_at=datetime(2026, 11, 20 + n, tzinfo=UTC),
                identifiers=(("dossier", "36547"), ("kamerstuk", f"kst-36547-{n + 1}"))),
                now=now)
    return engine


def _search_survives(engine: Engine, query: str) -> None:
    with session_factory(engine)() as session:
        try:
            search(session, query, limit=5)
        except QuerySyntaxError as exc:
            assert 0 <= exc.position <= len(query)


@pytest.fixture(scope="module")
def sqlite_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = _search_archive(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'search.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgresql_archive(postgres_server: str) -> Iterator[Engine]:
    """The same archive in a schema of its own on the test server, dropped afterwards."""
    from sqlalchemy import text

    schema = f"fuzz_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_server)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = _search_archive(f"{postgres_server}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@given(query=queries)
def test_search_runs_any_query_on_sqlite(sqlite_archive: Engine, query: str) -> None:
    _search_survives(sqlite_archive, query)


@pytest.mark.postgres
@settings(max_examples=30)
@given(query=queries)
def test_search_runs_any_query_on_postgresql(postgresql_archive: Engine, query: str) -> None:
    _search_survives(postgresql_archive, query)


def _seed(name: str, label_part: str) -> Seed:
    return next(s for s in seeds_of(name) if label_part in s.label)


def _fed(name: str, label_part: str, body: bytes, content_type: str | None = None
         ) -> tuple[Spider, list[Any]]:
    seed = _seed(name, label_part)
    spider, request = seed.reach()
    outputs = run_callback(spider, request, seed.url, body, content_type or seed.content_type)
    check_outputs(spider, outputs)
    return spider, outputs


def reasons(spider: Spider) -> str:
    return " | ".join(reason for _, reason in spider.failures)


def test_responses_that_crashed_a_spider_once() -> None:
    """What the fuzzer found, kept as plain examples: each crashed its callback before."""
    garbled = (b"<?xml version='1.0' encoding='\xf5tf-8'?>\n<rss><channel><item><title>t</title>"
               b"<link>https://example.org/a</link></item></channel></rss>")
    for name, part in (("feed", "rijksoverheid-nieuws"), ("rijksoverheid", ":parse_rss:")):
        spider, outputs = _fed(name, part, garbled)
        assert outputs == [] and "cannot be read (UnicodeDecodeError" in reasons(spider)
    spider, outputs = _fed("feed", "rijksoverheid-nieuws", garbled.replace(b"\xf5", b"\x00"))
    assert outputs == [] and "embedded null character" in reasons(spider)

    spider, outputs = _fed("page", "nr-publicaties-v1.html", b"")
    assert outputs == [] and "the page is not HTML" in reasons(spider)
    spider, outputs = _fed("rijksoverheid", ":parse_page:", b"  ")
    assert len(outputs) == 1 and "Kamerstuk page is not HTML" in reasons(spider)

    seed = _seed("eerstekamer", ":parse_bill:")
    spider, outputs = _fed("eerstekamer", ":parse_bill:",
                           seed.body.replace(b'src="/', b'src="/\x1f', 1))
    assert outputs and not spider.failures  # control characters are dropped before parsing

    seed = _seed("officielebekendmakingen", "fixture:sru-page1-of-2.xml")
    body = re.sub(rb"(<[a-z]*:?preferredUrl>)[^<]*", rb"\g<1>0", seed.body)
    body = re.sub(rb"(manifestation=\"html\"[^>]*>)[^<]*", rb"\g<1>0", body)
    assert body != seed.body
    _, outputs = _fed("officielebekendmakingen", "fixture:sru-page1-of-2.xml", body)
    assert all(o.url.startswith("https://zoek.officielebekendmakingen.nl/") for o in outputs
               if isinstance(o, PolicyItem)) and outputs

    seed = _seed("tweedekamer", "Toezegging")
    page = json.loads(seed.body)
    page["value"][0]["Id"] = None
    page["value"][1]["Tekst"] = {"nl": "geen tekst"}
    page["@odata.nextLink"] = 7
    spider, outputs = _fed("tweedekamer", "Toezegging", json.dumps(page).encode())
    assert len(outputs) == len(page["value"]) - 2
    assert "identifier tk-id is NoneType, not text" in reasons(spider)
    assert "AttributeError" in reasons(spider) or "'dict' object" in reasons(spider)
    assert "@odata.nextLink is int, not a URL" in reasons(spider)

    seed = _seed("feed", "rijksoverheid-nieuws")
    body = seed.body.replace(b"<link>https://www.rijksoverheid.nl/actueel", b"<link>ECLI:NL:XX:1<",
                             1).replace(b"<title>Kabinet", b"<title>\x00Kabinet", 1)
    spider, outputs = _fed("feed", "rijksoverheid-nieuws", body)
    assert outputs and outputs[0].url == "https://www.example.org/bron"  # the feed, not "ECLI:…"

    seed = _seed("rijksoverheid", "classic-documents-mensenhandel.xml")
    body = re.sub(rb"<canonical>[^<]*", b"<canonical>A:", seed.body, count=1)
    spider, outputs = _fed("rijksoverheid", "classic-documents-mensenhandel.xml", body)
    assert "canonical 'A:' is not a web address" in reasons(spider)

    seed = _seed("eurlex", ":parse_results:")
    results = json.loads(seed.body)
    results["head"]["vars"] = 1.0
    spider, outputs = _fed("eurlex", ":parse_results:", json.dumps(results).encode())
    assert outputs == [] and "results lack the variables" in reasons(spider)

    seed = _seed("europarl", ":parse_document:")
    document = json.loads(seed.body)
    document["data"][0]["is_realized_by"][0]["is_embodied_by"] = "0"
    spider, outputs = _fed("europarl", ":parse_document:", json.dumps(document).encode())
    assert outputs == [] and "document of " in reasons(spider)


@pytest.mark.parametrize("query", ["datum:>9999-12-31", "datum:<0001-01-01",
                                   "(" * 2000 + "a" + ")" * 2000, "NOT " * 2000 + "a",
                                   "- " * 150 + "a"])
def test_queries_that_crashed_the_parser_once(query: str) -> None:
    """OverflowError and RecursionError escaped ``parse`` before; now a clean error."""
    with pytest.raises(QuerySyntaxError) as raised:
        parse(query)
    assert 0 <= raised.value.position <= len(query)
    assert parse("(" * 99 + "a" + ")" * 99) == parse("a")
