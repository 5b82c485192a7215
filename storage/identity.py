"""Identity: which document (the work) a record (one source's copy) belongs to.

A record joins an existing document when they share a *strong* identifier: one that names a
single work wherever it appears. When a record states such an identifier later (the TK fills in
``ExterneIdentifier`` weeks after publication), the two documents are merged. Every join says
why (``record.joined_by``), and ``split_record`` undoes one.

Looking a record up costs one indexed query on ``identifier (scheme, value)``; nothing scans the
archive. Near-duplicates without a shared identifier (the same press release on two sites) are
not joined yet: that needs a blocking index on normalised titles (see the identity issue).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import ChangeEvent, Document, Identifier, Match, Record, Version

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


def find_document(
    session: Session, identifiers: Iterable[tuple[str, str]], *, exclude: int | None = None,
) -> tuple[int, tuple[str, str]] | None:
    """The document that shares the most strong identifiers with these, and one of them."""
    strong = sorted({(s, v) for s, v in identifiers if s in STRONG_SCHEMES})
    if not strong:
        return None
    query = select(Identifier.document_id, Identifier.scheme, Identifier.value).where(
        or_(*[and_(Identifier.scheme == s, Identifier.value == v) for s, v in strong]))
    if exclude is not None:
        query = query.where(Identifier.document_id != exclude)
    rows = session.execute(query).all()
    if not rows:
        return None
    counts = Counter(document_id for document_id, _, _ in rows)
    best = min(counts, key=lambda d: (-counts[d], d))
    scheme, value = next((s, v) for d, s, v in rows if d == best)
    return best, (scheme, value)


def merge_documents(session: Session, keep_id: int, gone_id: int, *, now: datetime) -> None:
    """Move everything of document ``gone_id`` to ``keep_id``; the gone row points at it."""
    for model in (Record, Identifier, Version, ChangeEvent, Match):
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
    document of their own. Returns the new document."""
    document = Document(title=record.title, doc_type=record.doc_type, first_seen_at=now,
                        last_changed_at=now)
    newest = session.scalars(select(Version).where(Version.record_id == record.id)
                             .order_by(Version.number.desc()).limit(1)).first()
    if newest is not None:
        document.published_at = newest.published_at
    session.add(document)
    session.flush()
    for model in (Identifier, Version, ChangeEvent):
        session.execute(update(model).where(model.record_id == record.id)
                        .values(document_id=document.id))
    version_ids = select(Version.id).where(Version.record_id == record.id)
    session.execute(update(Match).where(Match.version_id.in_(version_ids))
                    .values(document_id=document.id))
    previous = record.document_id
    record.document_id = document.id
    record.joined_by = {"split": {"from_document": previous, "at": now.isoformat()}}
    session.flush()
    return document


def join_reason(scheme: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"scheme": scheme, "value": value, "why": STRONG_SCHEMES[scheme], **extra}


def find_by_identifier(session: Session, text: str) -> list[int]:
    """Documents that carry ``text`` as an identifier (as written, or in canonical form)."""
    from monitors import identifiers as ids

    candidates = {text, text.upper(), text.lower()}
    for normalise in (ids.kamerstuk, ids.procedure, ids.celex, ids.ecli):
        value = normalise(text)
        if value:
            candidates.add(value)
    found = session.scalars(select(Identifier.document_id).where(
        Identifier.value.in_(sorted(candidates))).distinct()).all()
    return sorted({resolve(session, d) for d in found})
