"""Hand-written KOOP SRU records for the demo's week 48, in the documented wire format.

SOURCES.md §3.5 gives the structure and namespaces; shared/fixtures/officielebekendmakingen/
sru-record-gmb-2023-174296.xml is a real record (namespace-stripped) whose element order this
follows. Used by scripts/build_demo_recording.py; see tests/fixtures/officielebekendmakingen/NOTES.md.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

NS = (
    'xmlns:sru="http://docs.oasis-open.org/ns/search-ws/sruResponse" '
    'xmlns:gzd="http://standaarden.overheid.nl/sru" '
    'xmlns:overheidwetgeving="http://standaarden.overheid.nl/wetgeving/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:c="http://standaarden.overheid.nl/collectie/" '
    'xmlns:overheid="http://standaarden.overheid.nl/owms/terms/"'
)

#: Week 48 of 2026 as officielebekendmakingen publishes it (written, see NOTES.md).
RECORDS = {
    "kst-28638-271": {
        "title": "Mensenhandel; Brief regering; Voortgang Actieplan Samen tegen Mensenhandel "
                 "(november 2026)",
        "type": "Kamerstuk", "creator": "Tweede Kamer der Staten-Generaal",
        "modified": "2026-11-25", "available": "2026-11-25", "issued": "2026-11-16",
        "dossier": "28638", "ondernummer": "271", "dossiertitel": "Mensenhandel",
        "documenttitel": "Brief van de staatssecretaris van Justitie en Veiligheid over de "
                         "voortgang van het Actieplan Samen tegen Mensenhandel",
        "subrubriek": "Brief", "publicatienaam": "Kamerstuk", "vergaderjaar": "2026-2027",
        "path": "kst/28638/kst-28638-271",
    },
    "kst-36547-E": {
        "title": "Wijziging van het Wetboek van Strafrecht in verband met de modernisering en "
                 "uitbreiding van de strafbaarstelling van mensenhandel; Memorie van antwoord",
        "type": "Kamerstuk", "creator": "Eerste Kamer der Staten-Generaal",
        "modified": "2026-11-24", "available": "2026-11-24", "issued": "2026-11-23",
        "dossier": "36547", "ondernummer": "E",
        "dossiertitel": "Wijziging van het Wetboek van Strafrecht in verband met de modernisering "
                        "en uitbreiding van de strafbaarstelling van mensenhandel",
        "documenttitel": "Memorie van antwoord", "subrubriek": "Memorie van antwoord",
        "publicatienaam": "Kamerstuk", "vergaderjaar": "2026-2027",
        "abstract": "Antwoorden van de regering op vragen van de leden van de vaste commissie "
                    "voor Justitie en Veiligheid over de herziening van artikel 273f van het "
                    "Wetboek van Strafrecht.",
        "path": "kst/36547/kst-36547-E",
    },
    "ah-tk-20262027-412": {
        "title": "Vragen van het lid Verhoeven over seksuele uitbuiting van minderjarigen via "
                 "sociale media",
        "type": "Kamervragen (Aanhangsel)", "creator": "Tweede Kamer der Staten-Generaal",
        "modified": "2026-11-23", "available": "2026-11-23", "issued": "2026-11-19",
        "documenttitel": "Antwoord op vragen van het lid Verhoeven over seksuele uitbuiting van "
                         "minderjarigen via sociale media",
        "publicatienaam": "Kamervragen (Aanhangsel)", "vergaderjaar": "2026-2027",
        "vraagnummer": "2026Z19402", "aanhangselnummer": "412",
        "path": "ah-tk/20262027/ah-tk-20262027-412",
    },
    "stcrt-2026-31234": {
        "title": "Advies Afdeling advisering Raad van State inzake het voorstel van wet ter "
                 "implementatie van Richtlijn (EU) 2024/1712, met nader rapport",
        "type": "Staatscourant", "creator": "Raad van State",
        "modified": "2026-11-24", "available": "2026-11-24", "issued": "2026-11-24",
        "documenttitel": "Advies W16.26.00187/II en nader rapport",
        "publicatienaam": "Staatscourant", "vergaderjaar": "",
        "abstract": "Implementatie van de herziene richtlijn mensenhandel; wijziging van "
                    "artikel 273f van het Wetboek van Strafrecht.",
        "source": "RICHTLIJN (EU) 2024/1712 ]|[https://eur-lex.europa.eu/legal-content/NL/TXT/"
                  "HTML/?uri=CELEX:32024L1712",
        "path": "stcrt/2026/stcrt-2026-31234",
    },
}

#: Which records each of the spider's queries returns (by dossier, or by term), in order.
QUERY_HITS = {
    "dossier:28638": ["kst-28638-271"],
    "dossier:36547": ["kst-36547-E"],
    "term:mensenhandel": ["kst-28638-271", "kst-36547-E", "ah-tk-20262027-412",
                          "stcrt-2026-31234"],
    "term:273f": ["kst-36547-E", "stcrt-2026-31234"],
    "term:seksuele uitbuiting": ["ah-tk-20262027-412"],
}


def _e(tag: str, value: str, **attrs: str) -> str:
    attributes = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return f"<{tag}{attributes}>{escape(value)}</{tag}>" if value else ""


def record_xml(identifier: str, position: int) -> str:
    r = RECORDS[identifier]
    base = f"https://repository.overheid.nl/frbr/officielepublicaties/{r['path']}/1"
    tp = "".join([
        _e("c:product-area", "officielepublicaties"),
        _e("c:content-area", r["path"].rsplit("/", 1)[0]),
        _e("overheidwetgeving:dossiernummer", r.get("dossier", "")),
        _e("overheidwetgeving:ondernummer", r.get("ondernummer", "")),
        _e("overheidwetgeving:dossiertitel", r.get("dossiertitel", "")),
        _e("overheidwetgeving:documenttitel", r.get("documenttitel", "")),
        _e("overheidwetgeving:vergaderjaar", r.get("vergaderjaar", "")),
        _e("overheidwetgeving:subrubriek", r.get("subrubriek", "")),
        _e("overheidwetgeving:publicatienaam", r["publicatienaam"]),
        _e("overheidwetgeving:aanhangselnummer", r.get("aanhangselnummer", "")),
        _e("overheidwetgeving:vraagnummer", r.get("vraagnummer", "")),
        _e("overheidwetgeving:organisatietype", "staten generaal"
           if "Kamer" in r["creator"] else "adviescollege"),
    ])
    return (
        "<sru:record><sru:recordSchema>http://standaarden.overheid.nl/sru/</sru:recordSchema>"
        "<sru:recordPacking>xml</sru:recordPacking><sru:recordData><gzd:gzd>"
        "<gzd:originalData><overheidwetgeving:meta>"
        "<overheidwetgeving:owmskern>"
        + _e("dcterms:identifier", identifier)
        + _e("dcterms:title", r["title"])
        + _e("dcterms:type", r["type"], scheme="OVERHEIDop.Publicatietype")
        + _e("dcterms:language", "nl")
        + _e("dcterms:creator", r["creator"], scheme="overheid:StatenGeneraal")
        + _e("dcterms:modified", r["modified"])
        + "</overheidwetgeving:owmskern><overheidwetgeving:owmsmantel>"
        + _e("dcterms:available", r["available"])
        + _e("dcterms:issued", r["issued"])
        + _e("dcterms:abstract", r.get("abstract", ""))
        + _e("dcterms:source", r.get("source", ""))
        + "</overheidwetgeving:owmsmantel><overheidwetgeving:tpmeta>" + tp
        + "</overheidwetgeving:tpmeta></overheidwetgeving:meta></gzd:originalData>"
        "<gzd:enrichedData>"
        + _e("gzd:url", f"{base}/xml/{identifier}.xml")
        + _e("gzd:preferredUrl", f"https://zoek.officielebekendmakingen.nl/{identifier}.html")
        + _e("gzd:itemUrl", f"{base}/html/{identifier}.html", manifestation="html")
        + _e("gzd:itemUrl", f"{base}/pdf/{identifier}.pdf", manifestation="pdf")
        + _e("gzd:itemUrl", f"{base}/xml/{identifier}.xml", manifestation="xml")
        + _e("gzd:timestamp", f"{r['modified']}T06:12:44.318412+01:00")
        + f"</gzd:enrichedData></gzd:gzd></sru:recordData>"
        f"<sru:recordPosition>{position}</sru:recordPosition></sru:record>"
    )


def response_xml(identifiers: list[str], start: int = 1, total: int | None = None,
                 next_position: int | None = None) -> bytes:
    total = len(identifiers) if total is None else total
    records = "".join(record_xml(i, start + n) for n, i in enumerate(identifiers))
    next_element = (f"<sru:nextRecordPosition>{next_position}</sru:nextRecordPosition>"
                    if next_position else "")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sru:searchRetrieveResponse {NS}>'
        "<sru:version>2.0</sru:version>"
        f"<sru:numberOfRecords>{total}</sru:numberOfRecords>"
        + (f"<sru:records>{records}</sru:records>" if records else "")
        + next_element
        + "<sru:resultCountPrecision>info:srw/vocabulary/resultCountPrecision/1/exact"
        "</sru:resultCountPrecision></sru:searchRetrieveResponse>\n"
    ).encode("utf-8")


DIAGNOSTIC = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<sru:searchRetrieveResponse '
    'xmlns:sru="http://docs.oasis-open.org/ns/search-ws/sruResponse" '
    'xmlns:diag="http://docs.oasis-open.org/ns/search-ws/diagnostic"><sru:version>2.0'
    "</sru:version><sru:diagnostics><diag:diagnostic><diag:uri>info:srw/diagnostic/1/10"
    "</diag:uri><diag:details>line 1:13 mismatched input</diag:details><diag:message>Query "
    "syntax error</diag:message></diag:diagnostic></sru:diagnostics>"
    "</sru:searchRetrieveResponse>\n"
).encode("utf-8")
