"""The JSON API: the same data and permissions as the pages, read-only.

A signed-in browser session works; scripts sign in with HTTP Basic (a user of the web UI).
Writes go through the pages (CSRF-protected forms), not through the API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy import select

from storage import curation
from storage.digests import digest_list
from storage.models import ChangeEvent, Document, Identifier, Match, Record
from storage.models import Source, Topic, Version
from storage.runs import source_health
from storage.topics import list_topics, topic_counts
from storage.users import authenticate
from web.common import db, throttle

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _basic_auth() -> None:
    if g.get("user") is not None:
        return
    auth = request.authorization
    if auth is None or auth.type != "basic":
        abort(401)
    client = request.remote_addr or "?"
    if throttle.blocked(client):
        abort(401)
    with db() as s:
        user = authenticate(s, auth.username or "", auth.password or "")
        if user is None:
            throttle.failed(client)
            abort(401)
        s.expunge(user)
        g.user = user


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.get("/bronnen")
def sources() -> Any:
    with db() as s:
        return jsonify([
            {
                "bron": h.slug,
                "titel": h.title,
                "soort": h.kind,
                "records": h.records,
                "status": h.health,
                "laatste_run": _iso(h.last_run.started_at) if h.last_run else None,
                "laatst_gelukt": _iso(h.last_success_at),
                "fouten": list(h.last_run.errors) if h.last_run else [],
            }
            for h in source_health(s)
        ])


@bp.get("/search")
def search() -> Any:
    from web.search import export

    return export(request.args, fmt=request.args.get("format", "json"))


@bp.get("/documents/<int:document_id>")
def document(document_id: int) -> Any:
    with db() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            abort(404)
        records = []
        for record in s.scalars(select(Record).where(Record.document_id == doc.id)
                                .order_by(Record.id)):
            source = s.get(Source, record.source_id)
            ids: dict[str, list[str]] = {}
            for scheme, value in s.execute(select(Identifier.scheme, Identifier.value)
                                           .where(Identifier.record_id == record.id)
                                           .order_by(Identifier.id)):
                ids.setdefault(scheme, []).append(value)
            versions = s.scalars(select(Version).where(Version.record_id == record.id)
                                 .order_by(Version.number)).all()
            records.append({
                "id": record.id, "bron": source.slug if source else None, "sleutel": record.key,
                "url": record.url, "titel": record.title, "soort": record.doc_type,
                "status": record.status, "kenmerken": ids,
                "eerst_gezien": _iso(record.first_seen_at),
                "verwijderd": _iso(record.removed_at),
                "versies": [{"nummer": v.number, "titel": v.title, "tekst": v.text,
                             "gepubliceerd": _iso(v.published_at),
                             "opgehaald": _iso(v.fetched_at)} for v in versions],
            })
        events = [{"id": e.id, "soort": e.kind, "record": e.record_id,
                   "wanneer": _iso(e.detected_at), "detail": e.detail}
                  for e in s.scalars(select(ChangeEvent).where(ChangeEvent.document_id == doc.id)
                                     .order_by(ChangeEvent.id))]
        matches = [{"onderwerp": slug, "sterkte": m.strength, "versie": m.version_id,
                    "waarom": m.reason.get("hits", [])}
                   for m, slug in s.execute(select(Match, Topic.slug)
                                            .join(Topic, Match.topic_id == Topic.id)
                                            .where(Match.document_id == doc.id)
                                            .order_by(Match.id))]
        notes = [{"door": j.username, "onderwerp": j.topic_slug, "oordeel": j.judgement.verdict,
                  "notitie": j.judgement.note, "wanneer": _iso(j.judgement.created_at)}
                 for j in curation.for_document(s, doc.id)]
        return jsonify({
            "id": doc.id, "titel": doc.title, "soort": doc.doc_type,
            "gepubliceerd": _iso(doc.published_at), "eerst_gezien": _iso(doc.first_seen_at),
            "samengevoegd_in": doc.merged_into, "verwijderd": _iso(doc.removed_at),
            "records": records, "gebeurtenissen": events, "treffers": matches,
            "oordelen": notes,
        })


@bp.get("/topics")
def topics() -> Any:
    with db() as s:
        counts = topic_counts(s)
        return jsonify([{
            "slug": t.slug, "titel": t.title, "omschrijving": t.description, "query": t.query,
            "varianten": t.variants, "uitsluiten": t.exclusions, "actief": t.active,
            "eigenaar": t.owner, "treffers_sterk": counts.get(t.id, (0, 0))[0],
            "treffers_zwak": counts.get(t.id, (0, 0))[1],
            "gewijzigd": _iso(t.updated_at), "gewijzigd_door": t.updated_by,
        } for t in list_topics(s)])


@bp.get("/digests")
def digests() -> Any:
    with db() as s:
        rows = digest_list(s)
        return jsonify([{
            "id": d.id, "week": d.week, "taal": d.lang, "gemaakt": _iso(d.created_at),
            "verzonden": _iso(d.sent_at), "ontvangers": sent,
            "onderwerpen": [t.get("slug") for t in d.topics],
            "inhoud": d.data,
        } for d, sent in rows])
