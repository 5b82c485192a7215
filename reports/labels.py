"""What researchers read: labels for document types, events and status facets, in Dutch and English."""

from __future__ import annotations

from typing import Any

#: Source document types (TK `Soort`, …) as researchers name them: (nl, en).
DOCUMENT_TYPES = {
    "Brief regering": ("Kamerbrief", "Letter to parliament"),
    "Motie": ("Motie", "Motion"),
    "Motie (gewijzigd/nader)": ("Motie (gewijzigd)", "Motion (amended)"),
    "Amendement": ("Amendement", "Amendment"),
    "Amendement (gewijzigd/nader/vervangend)": ("Amendement (gewijzigd)", "Amendment (amended)"),
    "Schriftelijke vragen": ("Kamervragen", "Written questions"),
    "Antwoord schriftelijke vragen": ("Antwoord op Kamervragen", "Answer to written questions"),
    "Antwoord schriftelijke vragen (nader)": ("Nader antwoord op Kamervragen",
                                              "Further answer to written questions"),
    "Mondelinge vragen": ("Mondelinge vragen", "Oral questions"),
    "Voorstel van wet": ("Wetsvoorstel", "Bill"),
    "Voorstel van wet (initiatiefvoorstel)": ("Initiatiefwetsvoorstel", "Private member's bill"),
    "Memorie van toelichting": ("MvT", "Explanatory memorandum"),
    "Nota van wijziging": ("Nota van wijziging", "Memorandum of amendment"),
    "Nota n.a.v. het (nader/tweede nader/enz.) verslag": ("Nota n.a.v. verslag",
                                                         "Memorandum in reply to report"),
    "Advies Afdeling advisering Raad van State": ("Advies Raad van State", "Council of State advice"),
    "Advies Afdeling advisering Raad van State en Nader rapport": (
        "Advies Raad van State en nader rapport", "Council of State advice and further report"),
    "Verslag van een commissiedebat": ("Verslag commissiedebat", "Report of committee debate"),
    "Verslag van een schriftelijk overleg": ("Verslag schriftelijk overleg",
                                             "Report of written consultation"),
    "EU-voorstel": ("EU-voorstel", "EU proposal"),
    "Wetgeving": ("Wetsvoorstel (zaak)", "Bill (case)"),
    "Commissiedebat": ("Commissiedebat", "Committee debate"),
    "Plenair debat": ("Plenair debat", "Plenary debate"),
    "Rondetafelgesprek": ("Rondetafelgesprek", "Round-table meeting"),
    "Stemmingen": ("Stemmingen", "Votes"),
    "Stemmingsuitslagen": ("Stemmingsuitslagen", "Voting results"),
    "Bijlage": ("Bijlage", "Annex"),
    "Toezegging": ("Toezegging", "Commitment"),
    "Mededeling (uitstel antwoord)": ("Uitstel antwoord Kamervragen",
                                      "Postponed answer to written questions"),
    # Other sources (their spiders' doc_type values).
    "Uitspraak": ("Uitspraak", "Ruling"),
    "Conclusie": ("Conclusie (AG/PG)", "Advocate General's opinion"),
    "Internetconsultatie": ("Internetconsultatie", "Public consultation"),
    "Nieuwsbericht": ("Nieuwsbericht", "News item"),
    "Kamerstuk: Kamerbrief": ("Kamerbrief", "Letter to parliament"),
    "EU-procedure": ("EU-procedure", "EU procedure"),
    "Verslag (EP)": ("Verslag EP", "EP report"),
    "Aangenomen tekst (EP)": ("Aangenomen tekst EP", "EP adopted text"),
    "Ontwerpresolutie (EP)": ("Ontwerpresolutie EP", "EP motion for a resolution"),
    "Gezamenlijke ontwerpresolutie (EP)": ("Gezamenlijke ontwerpresolutie EP",
                                           "EP joint motion for a resolution"),
    "proposal": ("COM-voorstel", "Commission proposal"),
    "act": ("EU-rechtshandeling", "EU act"),
    "staff working document": ("Werkdocument Commissie", "Staff working document"),
    "Council document": ("Raadsdocument", "Council document"),
}

#: Status facets (see crawler spiders) in the order and words a researcher wants them.
FACETS = {
    "besluit": ("besluit", "decision"),
    "stemming": ("stemming", "vote"),
    "besluit_datum": ("datum besluit", "decision date"),
    "afgedaan": ("afgedaan", "closed"),
    "kabinetsappreciatie": ("kabinetsappreciatie", "government's assessment"),
    "behandelstatus": ("behandelstatus", "stage"),
    "zaak_status": ("status zaak", "case status"),
    "activiteit_status": ("status", "status"),
    "datum": ("datum", "date"),
    "verwacht": ("verwacht", "expected"),
    "locatie": ("locatie", "location"),
    "stadium": ("stadium", "stage"),
    "laatste_gebeurtenis": ("laatste stap", "latest event"),
    "activiteit": ("activiteit", "activity"),
    "vervangen_door": ("vervangen door", "replaced by"),
    "in_werking": ("in werking", "in force"),
    "uitslag": ("uitslag", "result"),
}

#: Agenda statuses (the ``activiteit_status`` facet of what is still coming): (nl, en).
AGENDA_STATUSES = {
    "Gepland": ("Gepland", "Planned"),
    "Verplaatst": ("Verplaatst", "Rescheduled"),
    "Openstaand": ("Openstaand", "Open"),
    "Voorzien": ("Voorzien", "Forecast"),
}

TEXT = {
    "title": ("Beleidsradar — weekoverzicht {week}", "Beleidsradar — weekly digest {week}"),
    "period": ("{start} t/m {end}", "{start} to {end}"),
    "new": ("nieuw", "new"),
    "changed": ("gewijzigd", "changed"),
    "status": ("status", "status"),
    "removed": ("verwijderd", "removed"),
    "Nieuw": ("Nieuw", "New"),
    "Gewijzigd": ("Gewijzigd", "Changed"),
    "Verwijderd": ("Verwijderd bij de bron", "Removed at the source"),
    "nothing": ("Geen nieuwe of gewijzigde documenten deze week.",
                "No new or changed documents this week."),
    "why": ("Waarom", "Why"),
    "see_also": ("ook bij dit onderwerp; volledig onder {topic}",
                 "also in this topic; in full under {topic}"),
    "weak": ("Mogelijk relevant (alleen vage treffers)", "Possibly relevant (fuzzy matches only)"),
    "sources": ("Bronnen deze week", "Sources this week"),
    "source": ("bron", "source"),
    "runs": ("runs", "runs"),
    "fetched": ("opgehaald", "fetched"),
    "failed": ("mislukt", "failed"),
    "not_checked": ("NIET gecontroleerd deze week", "NOT checked this week"),
    "incomplete": ("Let op: {n} bron(nen) niet (volledig) gecontroleerd; dit overzicht kan "
                   "onvolledig zijn.", "Note: {n} source(s) not (fully) checked; this digest "
                   "may be incomplete."),
    "unmatched": ("{n} andere documenten met gebeurtenissen vielen onder geen enkel onderwerp.",
                  "{n} other documents with events matched no topic."),
    "new_version": ("nieuwe versie {a} → {b}: +{added}/−{removed} woorden",
                    "new version {a} → {b}: +{added}/−{removed} words"),
    "title_changed": ("titel gewijzigd", "title changed"),
    "restored": ("teruggeplaatst bij de bron", "restored at the source"),
    "joined": ("ook verschenen in {source} ({value})", "also appeared in {source} ({value})"),
    "in_field": ("in {field}", "in {field}"),
    "fuzzy": ("vaag", "fuzzy"),
    "topics_used": ("Onderwerpen zoals gebruikt", "Topics as used"),
    "agenda": ("Agenda (komende weken)", "Agenda (coming weeks)"),
}


def t(key: str, lang: str, **values: Any) -> str:
    nl, en = TEXT[key]
    return (en if lang == "en" else nl).format(**values)


def document_type(value: str | None, lang: str) -> str:
    if not value:
        return ""
    pair = DOCUMENT_TYPES.get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]


def agenda_status(value: str, lang: str) -> str:
    """An agenda item's status as researchers read it ("Voorzien" / "Forecast")."""
    pair = AGENDA_STATUSES.get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]


def agenda_note(status: str, expected: str | None, lang: str) -> str:
    """What follows an agenda item's title: its status, and what is expected if the source says
    ("Voorzien: Indicative plenary sitting date, 1st reading")."""
    label = agenda_status(status, lang)
    return f"{label}: {expected}" if expected else label


def describe_event(kind: str, detail: dict[str, Any], lang: str) -> str:
    """One line saying what happened, e.g. 'besluit: Stemmen - aangenomen; stemming: Voor 143'."""
    if kind == "new":
        return t("Nieuw", lang)
    if kind == "removed":
        return t("Verwijderd", lang)
    if kind == "changed":
        parts = []
        if "from_version" in detail:
            parts.append(t("new_version", lang, a=detail["from_version"],
                           b=detail["from_version"] + 1, added=detail.get("words_added", 0),
                           removed=detail.get("words_removed", 0)))
        if detail.get("title_changed"):
            parts.append(t("title_changed", lang))
        if detail.get("restored"):
            parts.append(t("restored", lang))
        if detail.get("joined"):
            joined = detail["joined"]
            parts.append(t("joined", lang, source=joined.get("source", "?"),
                           value=joined.get("value", "")))
        return f"{t('Gewijzigd', lang)}: " + "; ".join(parts) if parts else t("Gewijzigd", lang)
    changes = detail.get("changes", {})
    lines = []
    for facet, (nl, en) in FACETS.items():
        if facet in changes:
            before, after = changes[facet]
            label = en if lang == "en" else nl
            lines.append(f"{label}: {after}" if before in (None, "") else
                         f"{label}: {before} → {after}")
    for facet in sorted(set(changes) - set(FACETS)):
        # A facet a newer spider reports that has no label yet is still shown, by its name.
        before, after = changes[facet]
        label = facet.replace("_", " ")
        lines.append(f"{label}: {after}" if before in (None, "") else
                     f"{label}: {before} → {after}")
    return "; ".join(lines)
