"""Identifiers in canonical form, from fields and from running text.

One spelling per thing, so that a query, an item's identifiers and a mention in a text meet:

- EU procedure: ``2022/0155(COD)``, ``2022-0155``, ``2022/0155/COD``, ``procedure/2022_155``
  → ``2022/0155(COD)`` (the type defaults to COD when a spelling leaves it out);
- law article: "art. 273f Sr", "artikel 273f van het Wetboek van Strafrecht", "273f WvSr",
  "BWBR0001854/273f" → ``273f``;
- CELEX: ``52022PC0209``; "COM(2022) 209" in a text → ``52022PC0209``;
- kamerstuk: ``kst-36547-3``, "36547-3", "Kamerstukken II 2023/24, 36547, nr. 3" → ``kst-36547-3``;
- ECLI: ``ECLI:NL:HR:2024:123`` (upper case).
- EU ELI: ``http://publications.europa.eu/resource/eli/dir/2024/1712/oj``, ``eli/dir/2024/1712/oj``
  → ``http://data.europa.eu/eli/dir/2024/1712/oj``.
- EP document: ``A-10-2025-0006``; "A10-0006/2025", "T10-0022/2025" (→ ``TA-…``),
  "RC-B10-0249/2025", "P10_TA(2025)0022", ``eli/dl/doc/A-10-2025-0006``, doceo page names.
"""

from __future__ import annotations

from bisect import bisect_left
import re
from functools import lru_cache

_PROCEDURE = re.compile(
    r"\b(?:procedure/)?((?:19|20)\d{2})\s*[/_-]\s*(\d{1,4})(?:\s*[(/]\s*([A-Z]{3})\s*\)?)?",
    re.IGNORECASE,
)
#: In running text only the unambiguous spelling counts: 2022/0155(COD) or 2022/0155/COD.
_PROCEDURE_IN_TEXT = re.compile(r"\b((?:19|20)\d{2})/(\d{4})\s*[(/]\s*(COD|CNS|NLE|APP|INI|RSP|BUD|DEC)\)?")
_CELEX = re.compile(r"\b([0-9CE]\d{4}[A-Z]{1,2}\d{4}(?:\(\d{2}\))?)\b")
_COM = re.compile(r"\bCOM\s*\(\s*((?:19|20)\d{2})\s*\)\s*(\d{1,4})\b", re.IGNORECASE)
_ECLI = re.compile(r"\bECLI:[A-Z]{2}:[A-Z0-9]{1,7}:\d{4}:[A-Z0-9.]{1,25}", re.IGNORECASE)
_KST = re.compile(r"\bkst-(\d{5})(?:-([A-Z]{1,5}))?-(\d+|[A-Z]{1,2})\b", re.IGNORECASE)

# Article references. The article number: digits with an optional letter suffix (273f, 248a).
_ARTICLE_NUMBER = r"(\d{1,4}[a-z]{0,2})"
_CODE = (
    r"(?:Sr|WvSr|Wetboek\s+van\s+Strafrecht|Sv|WvSv|Wetboek\s+van\s+Strafvordering|"
    r"BW|Burgerlijk\s+Wetboek)"
)
_ARTICLE_PATTERNS = [
    # "art. 273f Sr", "artikel 273f van het Wetboek van Strafrecht", "artikelen 273f en 273g Sr"
    re.compile(
        r"\bart(?:ikel(?:en)?|\.)?\s*" + _ARTICLE_NUMBER
        + r"(?:\s*(?:,|en|of)\s*\d{1,4}[a-z]{0,2})*"
        + r"(?:\s*(?:,\s*)?(?:lid|eerste|tweede|derde)[^,.;]{0,30}?)?"
        + r"\s*,?\s*(?:van\s+het\s+|\()?\s*" + _CODE,
        re.IGNORECASE,
    ),
    # "273f WvSr", "273f Sr"
    re.compile(r"\b" + _ARTICLE_NUMBER + r"\s+(?:Sr|WvSr|Sv|WvSv)\b"),
    # rechtspraak law references: BWBR0001854/273f, jci1.31:c:BWBR0001854&artikel=273f
    re.compile(r"BWBR\d{7}(?:/|&artikel=)" + _ARTICLE_NUMBER, re.IGNORECASE),
]


def procedure(value: str) -> str | None:
    """Canonical EU procedure number, or None when ``value`` is not one."""
    match = _PROCEDURE.search(value.strip())
    if not match:
        return None
    year, number, kind = match.groups()
    return f"{year}/{int(number):04d}({(kind or 'COD').upper()})"


def article(value: str) -> str | None:
    """Canonical article number ("273f") from a field value or a single reference."""
    value = value.strip()
    if re.fullmatch(_ARTICLE_NUMBER, value, re.IGNORECASE):
        return value.lower()
    found = articles_in(value)
    return found[0] if found else None


def articles_in(text: str) -> list[str]:
    """Every article number referred to in ``text``, canonical, in order of first mention."""
    found: dict[str, None] = {}
    for pattern in _ARTICLE_PATTERNS:
        for match in pattern.finditer(text):
            found.setdefault(match.group(1).lower(), None)
    return list(found)


# Articles of the Wetboek van Strafrecht only, as court rulings write them: with paragraphs and
# sub-items between number and code ("artikel 273f, eerste lid, aanhef en onder 1, van het
# Wetboek van Strafrecht", "art. 273f lid 1 sub 4 Sr"), in lists ("de artikelen 36f, 57 en 273f
# van het Wetboek van Strafrecht") and chains ("artikel 273f, eerste lid, en artikel 47 Sr").
# Rulings cite Sv, BW and special laws by the same numbers, so a number counts only when the
# Sr code (or the Sr BWB id, BWBR0001854) follows. A small token walk, not one big regex: the
# qualifiers are ambiguous enough to make a regex backtrack for minutes on a long ruling.
_SR_NUMBER = r"\d{1,4}(?:bis|ter|quater|[a-z]{0,2})"
_SR_ANCHOR = re.compile(r"\bart(?:ikel(?:en)?\b|\.)?\s*(?=\d)", re.IGNORECASE)
_SR_TOKEN = re.compile(r"(" + _SR_NUMBER + r")(?![\w])°?|[^\W\d_]+|[,()]|\S")
_SR_QUALIFIERS = {
    ",", "en", "of", "lid", "leden", "aanhef", "onder", "sub", "°",
    "eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende",
    "tiende",
}
_SR_BARE = re.compile(r"(?<![°\w])(" + _SR_NUMBER + r")\s+(?:WvSr|Sr)\b")
_SR_BWB = re.compile(r"BWBR0001854(?:/|&(?:amp;)?artikel=)(" + _SR_NUMBER + r")\b", re.IGNORECASE)
# The code's names as the walk below reads them (a whole run of letters, any case).
_SR_CODE = re.compile(r"(?<![^\W\d_])(?:wvsr|sr|wetboek)(?![^\W\d_])", re.IGNORECASE)
_SR_REACH = 400  # characters a reference is read for, from its "artikel"
_QUALIFIER_BEFORE = re.compile(r"(?:lid|sub|onder|aanhef|en|,)\s*$", re.IGNORECASE)


def _sr_reference_at(text: str, start: int) -> tuple[list[str], int] | None:
    """The article numbers of the reference starting at ``start`` (just after "artikel") and
    where it ends, if the reference is to the Wetboek van Strafrecht."""
    tokens = [(m.group(1), m.group().lower(), m.end()) for m in
              _SR_TOKEN.finditer(text, start, min(len(text), start + _SR_REACH))]
    numbers: list[str] = []
    i, listing = 0, True
    while i < len(tokens):
        number, word, end = tokens[i]
        if number and (listing or not numbers):
            numbers.append(number.lower())
        elif listing and word in (",", "en", "of") and i + 1 < len(tokens) and tokens[i + 1][0]:
            pass  # "36f, 57 en 273f": the next number is another article
        elif word in ("artikel", "artikelen", "art"):
            # "…, en artikel 47 Sr": a chained reference, read up to the same code.
            skip = 2 if word == "art" and i + 1 < len(tokens) and tokens[i + 1][1] == "." else 1
            if i + skip >= len(tokens) or not tokens[i + skip][0]:
                return None
            listing = True
            i += skip
            continue
        elif word in ("sr", "wvsr") or (word == "wetboek" and [t[1] for t in tokens[i + 1:i + 3]]
                                        == ["van", "strafrecht"]):
            return numbers, end
        elif word in ("van", "het", "(") or word in _SR_QUALIFIERS or number or len(word) == 1:
            listing = listing and word in (",", "en", "of")
        else:
            return None
        i += 1
    return None


def criminal_code_articles_in(text: str) -> list[str]:
    """Articles of the Wetboek van Strafrecht referred to in ``text`` (a ruling), canonical,
    in order of first mention; "artikel 249 Sv" or "artikel 6:248 BW" do not count."""
    found: dict[str, None] = {}
    taken: list[tuple[int, int]] = []
    # Where the code is named: an "artikel" with no code name within the walk's reach is not
    # walked (a long ruling of Sv or BW articles would otherwise be read 400 characters a time).
    codes = [m.start() for m in _SR_CODE.finditer(text)]
    for anchor in _SR_ANCHOR.finditer(text):
        if taken and anchor.start() < taken[-1][1]:
            continue  # inside a chained reference already read
        nearest = bisect_left(codes, anchor.end())
        if nearest == len(codes) or codes[nearest] >= anchor.end() + _SR_REACH:
            continue
        reference = _sr_reference_at(text, anchor.end())
        if reference:
            numbers, end = reference
            taken.append((anchor.start(), end))
            for number in numbers:
                found.setdefault(number, None)
    for match in _SR_BARE.finditer(text):
        inside = any(start <= match.start() < end for start, end in taken)
        # "lid 1 sub 4 Sr": the 4 is a sub-item of an article named before it, not an article.
        before = text[max(0, match.start() - 12):match.start()]
        if not inside and not _QUALIFIER_BEFORE.search(before):
            found.setdefault(match.group(1).lower(), None)
    for match in _SR_BWB.finditer(text):
        found.setdefault(match.group(1).lower(), None)
    return list(found)


def celex(value: str) -> str | None:
    value = re.sub(r"</?em>", "", value.strip(), flags=re.IGNORECASE)
    com = _COM.search(value)
    if com:
        return f"5{com.group(1)}PC{int(com.group(2)):04d}"
    match = _CELEX.search(value.upper())
    return match.group(1) if match else None


@lru_cache(maxsize=10_000)  # bounded: a crawl's memory stays flat (bench/RESULTS.md)
def kamerstuk(value: str) -> str | None:
    value = value.strip()
    match = _KST.search(value)
    if match:
        dossier, toevoeging, number = match.groups()
        middle = f"-{toevoeging.upper()}" if toevoeging else ""
        return f"kst-{dossier}{middle}-{number.upper() if number.isalpha() else number}"
    plain = re.fullmatch(r"(\d{5})(?:-([A-Z]{1,5}))?-(\d+|[A-Z]{1,2})", value, re.IGNORECASE)
    if plain:
        return kamerstuk("kst-" + value)
    cited = _KST_CITATION.search(value)
    if cited:
        return _cited_kamerstuk(cited)
    return None


#: A citation with "nr.": "Kamerstukken II 2023/24, 36547, nr. 3", "Kamerstuk 28638, nr. 271",
#: "Kamerstukken II 2025/26, 36 800 VI, nr. 12" (Eerste Kamer letters cited without "nr.", such
#: as "Kamerstukken I 2025/26, 36 547, E", are left out: a bare letter is too easily a word).
_KST_CITATION = re.compile(
    r"\bKamerstuk(?:ken)?\s+(?:I{1,2}\s+)?(?:(?:19|20)\d{2}\s*[/-]\s*(?:19|20)?\d{2}\s*,\s*)?"
    r"(\d{2}\s?\d{3})(?:[\s-]+([A-Z]{1,5}))?\s*,\s*nrs?\.?\s*(\d+|[A-Z]{1,2})\b",
    re.IGNORECASE,
)


def _cited_kamerstuk(match: re.Match[str]) -> str | None:
    dossier, toevoeging, number = match.groups()
    middle = f"-{toevoeging}" if toevoeging else ""
    return kamerstuk(f"kst-{dossier.replace(' ', '')}{middle}-{number}")


def kamerstukken_in(text: str) -> list[str]:
    """Every kamerstuk named in ``text`` (kst-… ids and citations), canonical, in text order."""
    found = [(m.start(), kamerstuk(m.group())) for m in _KST.finditer(text)]
    found += [(m.start(), _cited_kamerstuk(m)) for m in _KST_CITATION.finditer(text)]
    return list(dict.fromkeys(k for _, k in sorted(found) if k))


def ecli(value: str) -> str | None:
    match = _ECLI.search(value)
    return match.group().upper() if match else None


#: An EU ELI in any of the spellings sources use: http://data.europa.eu/eli/dir/2024/1712/oj,
#: Cellar's http://publications.europa.eu/resource/eli/reg/2018/196/oj, EUR-Lex's
#: https://eur-lex.europa.eu/eli/…, or the bare path eli/dir/2024/1712/oj (SOURCES.md §5.1).
_EU_ELI = re.compile(
    r"^(?:https?://(?:data\.europa\.eu|publications\.europa\.eu/resource|eur-lex\.europa\.eu)/)?"
    r"eli/([a-z_]+/\d{4}/[0-9a-z_()-]+(?:/[0-9a-z_.()-]+)*)/?$",
    re.IGNORECASE,
)


def eli(value: str) -> str | None:
    """Canonical EU ELI ``http://data.europa.eu/eli/dir/2024/1712/oj``, or None."""
    match = _EU_ELI.match(value.strip().split("?", 1)[0].split("#", 1)[0])
    return f"http://data.europa.eu/eli/{match.group(1).lower()}" if match else None


# EP plenary documents: report A, motion B, joint motion RC, adopted text TA (SOURCES.md §10).
_EP_DASH = re.compile(
    r"\b(A|B|RC|TA)-(\d{1,2})-((?:19|20)\d{2})-(\d{4})(-AM-\d{3}-\d{3})?(?!\d)", re.IGNORECASE)
_EP_SLASH = re.compile(r"\b(RC-B|RC|A|B|T)(\d{1,2})-(\d{4})/((?:19|20)\d{2})(?!\d)", re.IGNORECASE)
_EP_TA_OLD = re.compile(r"\bP(\d{1,2})_TA(?:-PROV)?\(((?:19|20)\d{2})\)(\d{4})(?!\d)", re.IGNORECASE)


def ep_document(value: str) -> str | None:
    """Canonical EP document reference (``A-10-2025-0006``, ``TA-10-2025-0022``), or None."""
    old = _EP_TA_OLD.search(value)
    if old:
        term, year, number = old.groups()
        return f"TA-{int(term)}-{year}-{number}"
    dash = _EP_DASH.search(value)
    if dash:
        kind, term, year, number, amendment = dash.groups()
        return f"{kind.upper()}-{int(term)}-{year}-{number}{(amendment or '').upper()}"
    slash = _EP_SLASH.search(value)
    if slash:
        kind, term, number, year = slash.groups()
        kind = {"T": "TA", "RC-B": "RC"}.get(kind.upper(), kind.upper())
        return f"{kind}-{int(term)}-{year}-{number}"
    return None


#: Raad van State (Afdeling advisering) kenmerk: W + ministry section + year + number + /chamber,
#: as printed ("W16.23.00354/II", "No.W04.12.0508/I", "nr. W16.19.0054/II") or as the advice
#: page's URL slug writes it ("w16-23-00354-ii"). The number keeps its digits (4 before 2021, 5 after).
_RVS_KENMERK = re.compile(
    r"(?<![A-Za-z0-9])W\s?(\d{2})[.-](\d{2})[.-](\d{3,5})\s*[/-]\s*(IV|I{1,3}|V)(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def rvs_kenmerk(value: str) -> str | None:
    """Canonical Raad van State kenmerk ``W16.23.00354/II``, or None."""
    match = _RVS_KENMERK.search(value)
    if not match:
        return None
    section, year, number, chamber = match.groups()
    return f"W{section}.{year}.{number}/{chamber.upper()}"


_CELEX_HINT = re.compile(r"\d{4}[A-Z]{1,2}\d{4}")
_ARTICLE_HINT = re.compile(r"\bart|bwbr|\bw?v?s[rv]\b")


def mentions(text: str) -> dict[str, set[str]]:
    """Identifiers mentioned in running text, by scheme (procedure, celex, ecli, artikel, kamerstuk).

    Each pattern runs only when a cheap substring test says it could find something: this
    runs for every item against every topic set.
    """
    lowered = text.lower()
    found: dict[str, set[str]] = {}
    if "/" in text:
        procedures = {f"{m.group(1)}/{m.group(2)}({m.group(3).upper()})"
                      for m in _PROCEDURE_IN_TEXT.finditer(text)}
        if procedures:
            found["procedure"] = procedures
    celexes = set()
    if "com" in lowered:
        celexes |= {f"5{m.group(1)}PC{int(m.group(2)):04d}" for m in _COM.finditer(text)}
    if _CELEX_HINT.search(text):
        celexes |= {m.group(1) for m in _CELEX.finditer(text)}
    if celexes:
        found["celex"] = celexes
    if "ecli" in lowered:
        found["ecli"] = {m.group().upper() for m in _ECLI.finditer(text)}
    # (The substrings first: the pattern alone costs ~10 µs on a 300-character text.)
    if ("art" in lowered or "bwbr" in lowered or "sr" in lowered or "sv" in lowered) \
            and _ARTICLE_HINT.search(lowered):
        articles = set(articles_in(text))
        if articles:
            found["artikel"] = articles
    if "kst-" in lowered:
        found["kamerstuk"] = {k for m in _KST.finditer(text) if (k := kamerstuk(m.group()))}
    return {scheme: values for scheme, values in found.items() if values}


# --- additions of the identity issue: re-issues, publications, EU acts as Dutch texts cite them --

#: A herdruk or new edition on officielebekendmakingen: the publication's id with ``-n1``,
#: ``-n2``… (kst-36547-3-n1 reprints kst-36547-3). [UNCONFIRMED] as a general rule (the suffix
#: is how zoek.officielebekendmakingen.nl names reprinted Kamerstukken; SOURCES.md lists no
#: example), so only a suffix on an id that is otherwise complete counts.
_REPRINT = re.compile(r"^((?:kst|ah|h|kv|stcrt|stb|trb|blg)-[0-9A-Za-z-]+?)-n(\d{1,2})$",
                      re.IGNORECASE)


def reprint_of(value: str) -> tuple[str, int] | None:
    """(the original publication id, the reprint number) of a reprint id such as
    ``kst-36547-3-n1``; None for anything else."""
    match = _REPRINT.match(value.strip())
    if not match:
        return None
    base = match.group(1)
    canonical = kamerstuk(base) if base.lower().startswith("kst-") else base.lower()
    return (canonical or base), int(match.group(2))


#: "Staatscourant 2026, 31234", "Stcrt. 2026, 31234", "Staatsblad 2025, 123", "Stb. 2025, 123",
#: "Tractatenblad 2024, 5", "Trb. 2024, 5", and the ids themselves (stcrt-2026-31234).
_PUBLICATION = re.compile(
    r"\b(?:(Staatscourant|Stcrt\.?|Staatsblad|Stb\.?|Tractatenblad|Trb\.?)\s*((?:19|20)\d{2})\s*,?\s*"
    r"(?:nr\.?\s*)?(\d{1,6})\b|(stcrt|stb|trb)-((?:19|20)\d{2})-(\d{1,6})\b)",
    re.IGNORECASE,
)
_PUBLICATION_PREFIX = {"staatscourant": "stcrt", "stcrt": "stcrt", "staatsblad": "stb",
                       "stb": "stb", "tractatenblad": "trb", "trb": "trb"}


def publications_in(text: str) -> list[str]:
    """Staatscourant, Staatsblad and Tractatenblad publications named in ``text``, as their
    officielebekendmakingen ids (``stcrt-2026-31234``), in text order."""
    found: list[str] = []
    for match in _PUBLICATION.finditer(text):
        name, year, number, prefix, year2, number2 = match.groups()
        if name:
            found.append(f"{_PUBLICATION_PREFIX[name.lower().rstrip('.')]}-{year}-{int(number)}")
        else:
            found.append(f"{prefix.lower()}-{year2}-{int(number2)}")
    return list(dict.fromkeys(found))


#: EU acts as texts cite them: "Richtlijn (EU) 2024/1712", "Verordening (EU) 2021/1232",
#: "Richtlijn 2011/36/EU", "Directive (EU) 2024/1712", "Kaderbesluit 2002/629/JBZ",
#: "Verordening (EG) nr. 1234/2007" (regulations before 2015 put the number first).
_EU_ACT_KINDS = {
    "richtlijn": "L", "directive": "L", "verordening": "R", "uitvoeringsverordening": "R",
    "gedelegeerde verordening": "R", "regulation": "R", "besluit": "D", "decision": "D",
    "kaderbesluit": "F", "framework decision": "F",
}
_EU_ACT = re.compile(
    r"\b(gedelegeerde\s+verordening|uitvoeringsverordening|framework\s+decision|kaderbesluit|"
    r"richtlijn|directive|verordening|regulation|besluit|decision)\s+"
    r"(?:\((EU|EG|EEG|EU,\s*Euratom)\)\s*(?:nr\.?\s*)?(\d{1,4})/(\d{1,4})"
    r"|(\d{2,4})/(\d{1,4})/(EU|EG|EEG|JBZ|JAI|GBVB))\b",
    re.IGNORECASE,
)


def _full_year(value: str) -> int | None:
    number = int(value)
    if len(value) == 4:
        return number if 1950 <= number <= 2100 else None
    if len(value) == 2:
        return 1900 + number if number >= 50 else 2000 + number
    return None


def eu_acts_in(text: str) -> list[str]:
    """CELEX numbers of the EU acts cited in ``text`` by their Dutch or English names
    ("Richtlijn (EU) 2024/1712" → ``32024L1712``), in text order. A bracketed citation is
    year/number from 2015 on and number/year for older regulations; the year is the part that
    reads as one."""
    found: list[str] = []
    for match in _EU_ACT.finditer(text):
        kind = _EU_ACT_KINDS[" ".join(match.group(1).lower().split())]
        if match.group(3):
            first, second = match.group(3), match.group(4)
            # (EU) 2024/1712 is year/number; (EG) nr. 1234/2007 is number/year.
            if len(first) == 4 and _full_year(first):
                year, number = _full_year(first), int(second)
            elif len(second) == 4 and _full_year(second):
                year, number = _full_year(second), int(first)
            else:
                continue
        else:
            year, number = _full_year(match.group(5)), int(match.group(6))
        if year is None:
            continue
        found.append(f"3{year}{kind}{number:04d}")
    return list(dict.fromkeys(found))


_CORRIGENDUM = re.compile(r"^([0-9CE]\d{4}[A-Z]{1,2}\d{4})R\(\d{2}\)$", re.IGNORECASE)


def corrigendum_of(value: str) -> str | None:
    """The CELEX an EU corrigendum corrects (``32024L1712R(01)`` → ``32024L1712``), else None."""
    match = _CORRIGENDUM.match(value.strip())
    return match.group(1).upper() if match else None


def eu_act_citations(celex_number: str) -> list[str]:
    """How Dutch texts cite an EU act, for a phrase search: ``32024L1712`` →
    ["richtlijn eu 2024 1712", "richtlijn 2024 1712 eu"] (the words a tokenizer keeps)."""
    match = re.fullmatch(r"3(\d{4})([LRDF])(\d{4})", celex_number.strip().upper())
    if not match:
        return []
    year, kind, number = match.group(1), match.group(2), str(int(match.group(3)))
    name = {"L": "richtlijn", "R": "verordening", "D": "besluit", "F": "kaderbesluit"}[kind]
    return [f"{name} eu {year} {number}", f"{name} {year} {number} eu"]
