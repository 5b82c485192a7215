"""Matcher throughput: N topics against M item texts, items per second.

    .venv/bin/python bench/bench_match.py [--topics 100] [--items 100000] [--seed 1]
    .venv/bin/python bench/bench_match.py --ruling    # Sr references in a long ruling

The topics are the 16 defaults from monitors/topics.toml plus generated ones in the same style
(phrases, prefixes, fuzzy terms, field filters, exclusions). The items are Dutch policy texts of
realistic shape: a TK-style title (60-160 characters) and metadata text of 3-8 lines, with
dossier, kamerstuk and zaak identifiers; about 1 in 8 is on one of the monitored subjects.
Prints the figures; the target (issue 5/9) is 10,000 items/s or better for 100 topics.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitors import identifiers  # noqa: E402
from monitors.matching import Matcher, MatchDoc, TopicQuery, prepare  # noqa: E402
from monitors.topics import DEFAULT_TOPICS, load_topics  # noqa: E402

SUBJECTS_ON = [
    "mensenhandel", "arbeidsuitbuiting", "seksuele uitbuiting", "loverboys", "slachtoffers",
    "seksueel geweld tegen kinderen", "online seksueel misbruik van kinderen", "grooming",
    "de Hervormingsagenda Jeugd", "het Nationaal Actieprogramma", "art. 273f Sr",
    "Richtlijn (EU) 2024/1712", "procedure 2022/0155(COD)", "chatcontrole", "jeugdhulp",
]
SUBJECTS_OFF = [
    "stikstof", "de woningmarkt", "het belastingplan", "defensiematerieel", "het mbo",
    "de zorgverzekering", "natuurherstel", "de energietransitie", "het openbaar vervoer",
    "de landbouw", "pensioenen", "de arbeidsmarkt", "kinderopvangtoeslag", "vergunningverlening",
    "het lerarentekort", "de luchtvaart", "grensbewaking", "de Wet open overheid",
]
KINDS = ["Brief regering", "Motie", "Amendement", "Schriftelijke vragen",
         "Antwoord schriftelijke vragen", "Verslag van een commissiedebat", "Nota van wijziging",
         "Memorie van toelichting", "Commissiedebat", "Besluitenlijst"]
FRAMES = [
    "Voortgangsbrief over {s}", "Motie van het lid {n} over {s}", "Vragen van het lid {n} over {s}",
    "Antwoord op vragen van het lid {n} over {s} en {t}", "Kabinetsreactie op het rapport over {s}",
    "Verslag van een commissiedebat over {s} en {t}", "Nota van wijziging inzake {s}",
    "Geannoteerde agenda van de JBZ-Raad: {s}", "Stand van zaken {s} in relatie tot {t}",
]
NAMES = ["Koster", "Verhoeven", "Aydin", "De Graaf", "Hoekstra", "Van der Werf", "Bikker",
         "Mutluer", "Ellian", "Podt"]
DOSSIERS = ["28638", "36547", "31015", "31839", "34843", "22112", "32317", "35334", "32847",
            "37020-VI", "27830", "29383"]


def make_items(count: int, rng: random.Random) -> list[MatchDoc]:
    items = []
    for i in range(count):
        on = rng.random() < 0.125
        subject = rng.choice(SUBJECTS_ON if on else SUBJECTS_OFF)
        other = rng.choice(SUBJECTS_ON if on and rng.random() < 0.5 else SUBJECTS_OFF)
        title = rng.choice(FRAMES).format(s=subject, t=other, n=rng.choice(NAMES))
        kind = rng.choice(KINDS)
        dossier = rng.choice(DOSSIERS)
        lines = [kind, title, f"Dossier {dossier}: {rng.choice(SUBJECTS_ON if on else SUBJECTS_OFF)}"]
        for _ in range(rng.randint(1, 5)):
            lines.append(f"{rng.choice(['Indiener', 'Medeindiener', 'Ondertekenaar'])}: "
                         f"{rng.choice(NAMES)} ({rng.choice(['VVD', 'GL-PvdA', 'CDA', 'D66'])})")
        items.append(MatchDoc(
            title=title, text="\n".join(lines), source="tweedekamer", doc_type=kind,
            identifiers={"dossier": [dossier], "kamerstuk": [f"kst-{dossier}-{i % 900 + 1}"],
                         "zaak": [f"2026Z{20000 + i % 9999:05d}"]},
        ))
    return items


def make_topics(count: int, rng: random.Random, fuzzy_share: float = 0.4) -> list[TopicQuery]:
    topics = [t.as_query() for t in load_topics(DEFAULT_TOPICS)]
    # Researchers' topics are narrow: words of the policy vocabulary, most of them rare in a
    # week's items (as "chatcontrole" or "pooierboy" are), some common ("slachtoffer").
    words = ["uitbuiting", "mensenhandel", "slachtoffer", "jeugdzorg", "grooming", "opvang",
             "chatcontrole", "pooierboy", "sextortion", "kinderporno", "schadevergoeding",
             "vreemdelingenbewaring", "prostitutie", "seksualiteit", "zedenpolitie",
             "arbeidsmigrant", "uitzendbureau", "jeugdbescherming", "gesloten jeugdhulp",
             "slachtofferhulp", "identificatie", "signalering", "klokkenluider", "tbs",
             "datingapp", "webcamseks", "minderjarige", "kinderbeschermingsmaatregel",
             "meldplicht", "verwijsindex", "zorgcoördinator", "landelijk dekkend"]
    while len(topics) < count:
        n = len(topics)
        a, b, c = rng.sample(words, 3)
        fuzzy = [f'"{a} {b}" OR {c}~', f"({a} OR {b}~) NOT {c}"]
        exact = [
            f"{a}* ({b} OR dossier:{rng.choice(DOSSIERS)})",
            f'"{a} {b}"~4 OR artikel:273f OR procedure:2022/0155(COD)',
            f"{a} soort:motie datum:>=2026-01-01",
            f"{a} OR {b} OR {c}",
            f'"{a}" OR kamerstuk:36547-{n % 40 + 1} OR zaak:2026Z2{n:04d}',
        ]
        query = rng.choice(fuzzy if rng.random() < fuzzy_share else exact)
        topics.append(TopicQuery(f"generated-{n}", query, exclusions=rng.choice(["", c])))
    return topics[:count]


def bench_ruling(runs: int = 5) -> None:
    """The rechtspraak spider reads every ruling's text for Sr articles; a long ruling full of
    article numbers, "lid" and "onder" chains that never name the Sr must not make that slow."""
    noise = "art 12 en 13 en 14 en 15 lid 1 onder a onder b en en , , " * 20000
    text = noise + "bewezen verklaard: artikel 273f, eerste lid, aanhef en onder 1, Sr. " + noise
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        found = identifiers.criminal_code_articles_in(text)
        times.append(time.perf_counter() - started)
    print(f"ruling: {len(text):,} characters, articles found {found}")
    print(f"time per ruling: median {sorted(times)[len(times) // 2] * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {runs} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fuzzy-share", type=float, default=0.4,
                        help="share of generated topics with a fuzzy word (evaluated for every item)")
    parser.add_argument("--ruling", action="store_true",
                        help="time reading Wetboek van Strafrecht references from a 1.2 MB ruling "
                             "of near-references (the rechtspraak spider's filter) instead")
    args = parser.parse_args()
    if args.ruling:
        bench_ruling()
        return
    rng = random.Random(args.seed)

    started = time.perf_counter()
    items = make_items(args.items, rng)
    topics = make_topics(args.topics, rng, args.fuzzy_share)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    matcher = Matcher(topics)
    compiled = time.perf_counter() - started

    started = time.perf_counter()
    matched_items = total_matches = weak = 0
    prepare_time = 0.0
    for item in items:
        t0 = time.perf_counter()
        prepared = prepare(item)
        prepare_time += time.perf_counter() - t0
        matches = matcher.match(prepared)
        if matches:
            matched_items += 1
            total_matches += len(matches)
            weak += sum(m.strength == "weak" for m in matches)
    elapsed = time.perf_counter() - started

    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.platform()}")
    always = len(matcher.always)
    print(f"items: {len(items)}  topics: {len(topics)}, of which {always} evaluated for every "
          f"item (fuzzy words)  (generated in {generated:.1f} s, compiled in "
          f"{compiled * 1000:.1f} ms)")
    print(f"matched items: {matched_items} ({100 * matched_items / len(items):.1f}%), "
          f"matches: {total_matches} (weak {weak})")
    print(f"time: {elapsed:.2f} s (preparing items {prepare_time:.2f} s)")
    print(f"throughput: {len(items) / elapsed:,.0f} items/s")


if __name__ == "__main__":
    main()
