"""The identity check for one new record at archive scale: strong identifiers and near-duplicates.

    .venv/bin/python bench/bench_identity.py build [--records 1000000] [--url URL]
    .venv/bin/python bench/bench_identity.py run [--url URL] [--checks 2000]

``build`` generates a synthetic archive (default SQLite /tmp/beleidsradar-bench-identity.db;
``--url`` a PostgreSQL URL works too) of N records, one document each, over three years, with the
sources' mix (TK 55 %, officielebekendmakingen 20 %, rijksoverheid.nl 15 %, researcher feeds
5 %, others 5 %) and their document types, so that about 40 % are in a near-duplicate family
(press releases, government letters); titles of 6–14 words drawn from a Zipf-distributed
vocabulary of 30,000 words plus the monitored subjects' words (mensenhandel, slachtoffers, …),
so that common word pairs are really common; two identifiers per record (a kamerstuk or CELEX
or ECLI, and a dossier); and the title keys ``storage.identity`` writes (``title_key_rows``,
bulk-inserted: ~3.4 rows per record).

``run`` times ``storage.identity.find_join`` (the whole check ``record_observation`` makes
before creating a record) for ``--checks`` new records of each kind, and ``index_title`` (the
keys written for one record, rolled back):

- strong, found: a record stating a kamerstuk that is in the archive (joins);
- strong, new: a kamerstuk that is not (then the re-issue and near-duplicate checks run too,
  as for a TK letter);
- near-duplicate, found: a press release whose title is an existing one's, lightly edited, from
  another source within the window (joins after rapidfuzz on the candidates);
- near-duplicate, new: a press release with a fresh title (the blocking query finds nothing
  or only candidates that fail the title rule).

Target (identity issue): under 1 ms per record at 1 million records. Prints p50/p95/mean.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from storage.db import make_engine, session_factory, upgrade  # noqa: E402
from storage.identity import (  # noqa: E402
    RecordFacts, find_join, index_title, record_day, title_key_rows, title_shape,
)
from storage.models import Document, Identifier, Record, Source, TitleKey  # noqa: E402

DEFAULT_URL = "sqlite:////tmp/beleidsradar-bench-identity.db"
BUILD_SEED = 7
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 3 * 365
#: slug, kind, share, document types (the first ones are in a near-duplicate family)
SOURCES = [
    ("tweedekamer", "spider", 0.55, ["Brief regering", "Motie", "Schriftelijke vragen",
                                     "Amendement", "Verslag", "Antwoord schriftelijke vragen"]),
    ("officielebekendmakingen", "spider", 0.20, ["Brief", "Motie", "Kamervragen (Aanhangsel)",
                                                 "Staatscourant"]),
    ("rijksoverheid", "spider", 0.15, ["Nieuwsbericht", "Kamerstuk: Kamerbrief", "Rapport"]),
    ("ministerie-feed", "feed", 0.05, ["Feedbericht"]),
    ("rechtspraak", "spider", 0.05, ["Uitspraak"]),
]
SUBJECT_WORDS = [
    "mensenhandel", "slachtoffers", "uitbuiting", "arbeidsuitbuiting", "seksuele", "kinderen",
    "opvang", "minderjarige", "actieplan", "voortgang", "aanpak", "strafbaarstelling",
    "jeugdzorg", "hervormingsagenda", "richtlijn", "implementatie", "stikstof", "woningmarkt",
    "onderwijs", "defensie", "belastingplan", "energietransitie", "kabinet", "staatssecretaris",
]
FILLER = ["over", "de", "het", "van", "voor", "een", "en", "in", "met", "tegen", "bij"]


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    syllables = ["ka", "be", "le", "id", "ver", "ant", "woor", "ding", "stra", "rech", "wet",
                 "ge", "zond", "heid", "ar", "beid", "mark", "toe", "zicht", "raad", "plan",
                 "ont", "wik", "ke", "ling", "over", "heid", "re", "ge", "ling", "vei", "lig"]
    words: dict[str, None] = {w: None for w in SUBJECT_WORDS}
    while len(words) < size:
        words["".join(rng.choice(syllables) for _ in range(rng.randint(2, 5)))] = None
    return list(words)


class Titles:
    """Titles of Zipf-distributed words (the subject words most frequent)."""

    def __init__(self, rng: random.Random, vocabulary_rng: random.Random | None = None):
        self.rng = rng
        self.words = vocabulary(vocabulary_rng or rng)
        weights = [1 / (rank + 1) for rank in range(len(self.words))]
        self.cumulative = list(__import__("itertools").accumulate(weights))

    def __call__(self) -> str:
        n = self.rng.randint(6, 14)
        content = self.rng.choices(self.words, cum_weights=self.cumulative, k=n)
        parts = []
        for word in content:
            parts.append(word)
            if self.rng.random() < 0.3:
                parts.append(self.rng.choice(FILLER))
        return " ".join(parts).capitalize()


def build(url: str, records: int, seed: int = 7) -> None:
    assert seed == BUILD_SEED or records < 1_000_000, "run() assumes the build's vocabulary"
    rng = random.Random(seed)
    titles = Titles(rng)
    engine = make_engine(url)
    upgrade(engine)
    Session = session_factory(engine)
    started = time.perf_counter()
    with Session.begin() as session:
        if session.scalar(select(func.count(Record.id))):
            raise SystemExit(f"{url} already has records; build into an empty archive")
        sources = []
        for slug, kind, share, types in SOURCES:
            source = Source(slug=slug, kind=kind, title=slug, config={}, cursor={})
            session.add(source)
            session.flush()
            sources.append((source.id, slug, kind, share, types))
    cum = list(__import__("itertools").accumulate(s[3] for s in sources))
    batch = 20_000
    with engine.begin() as connection:
        for offset in range(0, records, batch):
            documents, rows, identifiers, keys = [], [], [], []
            for n in range(offset + 1, min(records, offset + batch) + 1):
                source_id, slug, kind, _, types = rng.choices(sources, cum_weights=cum)[0]
                doc_type = types[0] if rng.random() < 0.6 else rng.choice(types)
                title = titles()
                published = START + timedelta(days=rng.randrange(DAYS),
                                              hours=rng.randrange(24))
                documents.append({"id": n, "title": title, "doc_type": doc_type,
                                  "published_at": published, "first_seen_at": published,
                                  "last_changed_at": published})
                rows.append({"id": n, "source_id": source_id, "document_id": n, "key": f"k{n}",
                             "url": f"https://example.test/{n}", "title": title,
                             "doc_type": doc_type, "content_hash": "0" * 64, "status": {},
                             "first_seen_at": published, "last_seen_at": published})
                strong = (("kamerstuk", f"kst-{30000 + n // 300}-{n % 300 + 1}")
                          if slug in ("tweedekamer", "officielebekendmakingen")
                          else ("ecli", f"ECLI:NL:RBAMS:2025:{n}") if slug == "rechtspraak"
                          else ("url", f"https://example.test/{slug}/{n}"))
                for scheme, value in (strong, ("dossier", str(30000 + n // 300))):
                    identifiers.append({"record_id": n, "document_id": n, "scheme": scheme,
                                        "value": value})
                day = record_day(published, published)
                keys += [{"record_id": n, "key": key, "source_id": source_id, "day": day}
                         for key in title_key_rows(slug, kind, doc_type, title)]
            connection.execute(insert(Document), documents)
            connection.execute(insert(Record), rows)
            connection.execute(insert(Identifier), identifiers)
            connection.execute(insert(TitleKey), keys)
            done = min(records, offset + batch)
            if done % 100_000 == 0 or done == records:
                print(f"  {done:,} records ({time.perf_counter() - started:.0f} s)", flush=True)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Rows went in with their ids: move the sequences past them.
            for table in ("document", "record"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
        connection.execute(text("ANALYZE"))
    with Session() as session:
        total_keys = session.scalar(select(func.count()).select_from(TitleKey))
    print(f"built {records:,} records, {total_keys:,} title keys in "
          f"{time.perf_counter() - started:.0f} s")


def edited(rng: random.Random, title: str) -> str:
    """A press release's title as another site writes it."""
    return rng.choice([f"Nieuwsbericht: {title}", f"{title} | Ministerie van JenV",
                       title.upper(), f"{title}."])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(url: str, checks: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    # The archive's vocabulary (build's seed, which drew it first), new titles from it.
    titles = Titles(random.Random(seed + 1), vocabulary_rng=random.Random(BUILD_SEED))
    engine = make_engine(url)
    Session = session_factory(engine)
    with Session() as session:
        records = session.scalar(select(func.max(Record.id))) or 0
        sources = {slug: (id_, kind) for id_, slug, kind in session.execute(
            select(Source.id, Source.slug, Source.kind))}
        press = session.execute(
            select(Record.id, Record.title, Record.first_seen_at).where(
                Record.doc_type == "Nieuwsbericht").order_by(Record.id).limit(checks * 20)).all()
    print(f"{records:,} records in {url.split('@')[-1]}")
    feed_id, _ = sources["ministerie-feed"]
    tk_id, _ = sources["tweedekamer"]
    kinds: dict[str, list[RecordFacts]] = {}
    with Session() as session:
        stated = session.scalars(select(Identifier.value).where(
            Identifier.scheme == "kamerstuk",
            Identifier.id.in_([rng.randrange(1, 2 * records) for _ in range(4 * checks)]))).all()
    kinds["strong, found"] = [RecordFacts(
        tk_id, "tweedekamer", "spider", titles(), "", "Brief regering",
        START.date() + timedelta(days=rng.randrange(DAYS)), (("kamerstuk", value),))
        for value in stated[:checks]]
    kinds["strong, new"] = [RecordFacts(
        tk_id, "tweedekamer", "spider", titles(), "", "Brief regering",
        START.date() + timedelta(days=rng.randrange(DAYS)),
        (("kamerstuk", f"kst-{60000 + n}-1"),)) for n in range(checks)]
    picked = rng.sample(press, min(checks, len(press)))
    kinds["near-duplicate, found"] = [RecordFacts(
        feed_id, "ministerie-feed", "feed", edited(rng, title), "", "Feedbericht",
        record_day(None, seen) + timedelta(days=rng.randint(0, 2)), ())
        for _, title, seen in picked]
    kinds["near-duplicate, new"] = [RecordFacts(
        feed_id, "ministerie-feed", "feed", titles(), "", "Feedbericht",
        START.date() + timedelta(days=rng.randrange(DAYS)), ()) for _ in range(checks)]
    # Wall time, and this process's CPU time: on a busy machine the wall time includes waiting
    # for a core; the CPU time is what the check costs (on SQLite, all of it: the database runs
    # in this process; on PostgreSQL the server's share is not in it).
    print(f"{'check':<24} {'n':>6} {'joined':>7} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} "
          f"{'cpu p50':>8} {'cpu p95':>8}")
    with Session() as session:
        # A crawling process is warm: its word-stem cache holds the archive's vocabulary.
        for (title,) in session.execute(select(Record.title).where(
                Record.id.in_([rng.randrange(1, records) for _ in range(20_000)]))):
            title_shape(title)
        for facts in kinds["strong, new"][:50]:  # and the connection and statement caches
            find_join(session, facts)
        for name, batch in kinds.items():
            times, cpu, joined = [], [], 0
            for facts in batch:
                started, started_cpu = time.perf_counter(), time.thread_time()
                found = find_join(session, facts)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.thread_time() - started_cpu) * 1000)
                joined += found is not None
            print(f"{name:<24} {len(batch):>6} {joined:>7} {percentile(times, 50):>8.3f} "
                  f"{percentile(times, 95):>8.3f} {statistics.fmean(times):>8.3f} "
                  f"{percentile(cpu, 50):>8.3f} {percentile(cpu, 95):>8.3f}", flush=True)
    # Writing one record's keys (what index_title adds to a new record's transaction).
    times = []
    with Session() as session:
        batch = kinds["near-duplicate, new"][:checks]
        document = Document(title="bench", first_seen_at=START, last_changed_at=START)
        session.add(document)
        session.flush()
        fresh = []
        for n in range(len(batch)):
            record = Record(source_id=feed_id, document_id=document.id, key=f"bench/{n}", url="u",
                            content_hash="0" * 64, status={}, first_seen_at=START,
                            last_seen_at=START)
            session.add(record)
            fresh.append(record)
        session.flush()
        for record, facts in zip(fresh, batch):
            started = time.perf_counter()
            index_title(session, record.id, facts, fresh=True)
            session.flush()
            times.append((time.perf_counter() - started) * 1000)
        session.rollback()
    print(f"{'index_title (write)':<24} {len(times):>6} {'':>7} {percentile(times, 50):>8.3f} "
          f"{percentile(times, 95):>8.3f} {statistics.fmean(times):>8.3f}")
    print(f"({platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, {date.today().isoformat()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "run"])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()
    if args.command == "build":
        build(args.url, args.records)
    else:
        run(args.url, args.checks)


if __name__ == "__main__":
    main()
