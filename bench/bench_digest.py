"""Digest build time: one week of N events in an archive of M documents.

    .venv/bin/python bench/bench_digest.py [--documents 1000000] [--events 5000] [--db PATH]

Builds a synthetic archive with bulk inserts (documents, records, versions with Dutch
policy-shaped titles, identifiers, events spread over a year with the given number in the
benchmark week, matches for the 16 default topics on a third of the week's documents and a
tenth of all others, and planned committee debates for the agenda),
then times ``build_digest`` for that week (and the plain-text rendering). Target (issue 7):
under 1 s for 5,000 events in 1 million documents. Prints the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from monitors.topics import DEFAULT_TOPICS, load_topics  # noqa: E402
from reports.digest import build_digest  # noqa: E402
from reports.periods import parse_week  # noqa: E402
from reports.render import render  # noqa: E402
from storage.archive import scheduled_from  # noqa: E402
from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    ChangeEvent, CrawlRun, Document, Identifier, Match, Record, Source, Topic, Version,
)

WEEK = parse_week("2026-W48")
SUBJECTS = ["mensenhandel", "arbeidsuitbuiting", "stikstof", "de woningmarkt", "jeugdzorg",
            "het belastingplan", "defensiematerieel", "seksueel geweld tegen kinderen",
            "de energietransitie", "het onderwijs", "pensioenen", "de zorgverzekering"]
KINDS = ["Brief regering", "Motie", "Amendement", "Schriftelijke vragen", "Nota van wijziging",
         "Memorie van toelichting"]


def generate(url: str, documents: int, events: int, rng: random.Random) -> None:
    engine = make_engine(url)
    upgrade(engine)
    Session = session_factory(engine)
    year_start = WEEK.start - timedelta(days=364)
    with Session.begin() as session:
        source = Source(slug="tweedekamer", kind="spider", title="Tweede Kamer", config={},
                        cursor={})
        session.add(source)
        session.flush()
        session.add(CrawlRun(source_id=source.id, started_at=WEEK.start + timedelta(days=2),
                             finished_at=WEEK.start + timedelta(days=2, minutes=3), status="ok",
                             fetched=40, new=events, errors=[], cursor_before={},
                             cursor_after={}))
        topics = []
        for n, topic in enumerate(load_topics(DEFAULT_TOPICS)):
            topics.append(n + 1)
            session.add(Topic(id=n + 1, slug=topic.slug, title=topic.title, query=topic.query,
                              variants={}, examples={}, created_at=year_start,
                              updated_at=year_start))
        source_id = source.id
    in_week = set(rng.sample(range(1, documents + 1), events))
    chunk = 50_000
    with engine.begin() as connection:
        for first in range(1, documents + 1, chunk):
            ids = range(first, min(first + chunk, documents + 1))
            docs, recs, vers, idents, evs, matches = [], [], [], [], [], []
            for i in ids:
                subject = rng.choice(SUBJECTS)
                # About 1 in 200 documents is a debate or meeting with a date (TK-like).
                kind = "Commissiedebat" if rng.random() < 0.005 else rng.choice(KINDS)
                title = f"{kind} over {subject} ({i})"
                when = (WEEK.start + timedelta(minutes=rng.randrange(7 * 24 * 60))) \
                    if i in in_week else year_start + timedelta(minutes=rng.randrange(
                        358 * 24 * 60))
                docs.append({"id": i, "title": title, "doc_type": kind, "published_at": when,
                             "first_seen_at": when, "last_changed_at": when})
                status: dict[str, str] = {}
                scheduled = None
                if kind == "Commissiedebat":
                    planned = WEEK.end + timedelta(days=rng.randrange(-60, 60))
                    status = {"activiteit_status": rng.choice(["Gepland", "Uitgevoerd"]),
                              "datum": planned.strftime("%Y-%m-%d %H:%M")}
                    scheduled = scheduled_from(status)
                recs.append({"id": i, "source_id": source_id, "document_id": i,
                             "key": f"Document/{i}", "url": f"https://example.test/d/{i}",
                             "title": title, "doc_type": kind, "content_hash": f"{i:064x}",
                             "status": status, "scheduled_at": scheduled,
                             "first_seen_at": when, "last_seen_at": when})
                vers.append({"id": i, "record_id": i, "document_id": i, "number": 1,
                             "content_hash": f"{i:064x}", "title": title,
                             "text": f"{kind}\n{title}\nDossier {28000 + i % 9000}",
                             "doc_type": kind, "published_at": when, "meta": {},
                             "fetched_at": when, "created_at": when})
                idents.append({"record_id": i, "document_id": i, "scheme": "kamerstuk",
                               "value": f"kst-{28000 + i % 9000}-{i}"})
                idents.append({"record_id": i, "document_id": i, "scheme": "dossier",
                               "value": str(28000 + i % 9000)})
                evs.append({"id": i, "kind": "new", "document_id": i, "record_id": i,
                            "version_id": i, "detected_at": when, "detail": {}})
                # A third of the week's documents, and a tenth of the rest, match topics.
                if rng.random() < (0.35 if i in in_week else 0.10):
                    for topic_id in rng.sample(topics, rng.randint(1, 3)):
                        matches.append({"topic_id": topic_id, "document_id": i, "version_id": i,
                                        "strength": "strong", "matched_at": when, "reason": {
                                            "hits": [{"clause": subject, "field": "titel",
                                                      "snippet": title, "mark": [0, 5],
                                                      "fuzzy": False}]}})
            for model, rows in ((Document, docs), (Record, recs), (Version, vers),
                                (Identifier, idents), (ChangeEvent, evs), (Match, matches)):
                if rows:
                    connection.execute(insert(model), rows)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--db", default="/tmp/beleidsradar-bench-digest.db")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true",
                        help="Time the archive already at --db (made by an earlier run).")
    parser.add_argument("--profile", action="store_true", help="Print a cProfile of one build.")
    args = parser.parse_args()
    path = Path(args.db)
    started = time.perf_counter()
    if not (args.reuse and path.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        generate(str(path), args.documents, args.events, random.Random(args.seed))
    generated = time.perf_counter() - started
    engine = make_engine(str(path))
    Session = session_factory(engine)
    timings = []
    for _ in range(3):
        with Session() as session:
            started = time.perf_counter()
            digest = build_digest(session, WEEK)
            built = time.perf_counter() - started
        started = time.perf_counter()
        text = render(digest, "txt")
        rendered = time.perf_counter() - started
        timings.append((built, rendered))
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        with Session() as session:
            profiler.runcall(build_digest, session, WEEK)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    shown = sum(len(t.entries) + len(t.weak) for t in digest.topics)
    print(f"archive: {args.documents:,} documents, {args.events:,} events in {WEEK.label} "
          f"(generated in {generated:.1f} s, {path.stat().st_size / 1e9:.2f} GB SQLite)")
    agenda = sum(len(t.agenda) for t in digest.topics)
    print(f"digest: {len(digest.event_ids):,} matched events, {shown:,} entries, "
          f"{agenda:,} agenda items, {len(text):,} characters of text")
    for n, (built, rendered) in enumerate(timings, 1):
        print(f"run {n}: build {built:.3f} s, render txt {rendered:.3f} s")
    print(f"best build: {min(b for b, _ in timings):.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
