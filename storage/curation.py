"""Researchers' judgements on matches (relevant or not for a topic) and their notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Document, Judgement, Match, Topic, User

VERDICTS = ("relevant", "not_relevant")


@dataclass(frozen=True)
class JudgementRow:
    judgement: Judgement
    username: str
    topic_slug: str | None
    topic_title: str | None
    document_title: str


def judge(session: Session, *, document_id: int, user: User, topic: Topic | None,
          verdict: str | None, note: str, now: datetime) -> Judgement:
    """Record a verdict and/or note; the newest one per user, document and topic counts."""
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"verdict is one of {', '.join(VERDICTS)}, not {verdict!r}")
    note = note.strip()
    if verdict is None and not note:
        raise ValueError("give a verdict or a note")
    if verdict is not None and topic is None:
        raise ValueError("a verdict is about a topic: choose one")
    row = Judgement(document_id=document_id, topic_id=topic.id if topic else None,
                    user_id=user.id, verdict=verdict, note=note[:5000], created_at=now)
    session.add(row)
    session.flush()
    return row


def _rows(session: Session, query) -> list[JudgementRow]:  # type: ignore[no-untyped-def]
    result = []
    for judgement, username, slug, title, doc_title in session.execute(query):
        result.append(JudgementRow(judgement, username, slug, title, doc_title))
    return result


def _base():  # type: ignore[no-untyped-def]
    return (select(Judgement, User.username, Topic.slug, Topic.title, Document.title)
            .join(User, Judgement.user_id == User.id)
            .join(Document, Judgement.document_id == Document.id)
            .outerjoin(Topic, Judgement.topic_id == Topic.id))


def for_document(session: Session, document_id: int) -> list[JudgementRow]:
    """Every judgement and note on a document, newest first (history included)."""
    return _rows(session, _base().where(Judgement.document_id == document_id)
                 .order_by(Judgement.id.desc()))


def for_topic(session: Session, topic: Topic, limit: int = 200) -> list[JudgementRow]:
    return _rows(session, _base().where(Judgement.topic_id == topic.id)
                 .order_by(Judgement.id.desc()).limit(limit))


def current_verdicts(session: Session, topic: Topic) -> dict[int, str]:
    """Per judged document: the topic's verdict as it stands (the newest verdict of any user)."""
    newest = (select(func.max(Judgement.id)).where(Judgement.topic_id == topic.id,
                                                   Judgement.verdict.is_not(None))
              .group_by(Judgement.document_id)).scalar_subquery()
    return dict(session.execute(select(Judgement.document_id, Judgement.verdict)
                                .where(Judgement.id.in_(newest))).all())


@dataclass(frozen=True)
class TopicQuality:
    matched: int
    judged: int
    relevant: int
    not_relevant: int

    @property
    def not_relevant_share(self) -> float | None:
        return self.not_relevant / self.judged if self.judged else None


def quality(session: Session, topic: Topic) -> TopicQuality:
    """How a topic's matches were judged: the share of not-relevant ones says it needs tuning.
    Only judgements on documents the topic currently matches count."""
    matched = set(session.scalars(select(Match.document_id).where(Match.topic_id == topic.id)))
    verdicts = {d: v for d, v in current_verdicts(session, topic).items() if d in matched}
    relevant = sum(v == "relevant" for v in verdicts.values())
    return TopicQuality(len(matched), len(verdicts), relevant, len(verdicts) - relevant)


def search_notes(session: Session, text: str, limit: int = 50) -> list[JudgementRow]:
    """Notes that contain every word of ``text`` (case-insensitive), newest first. Query
    operators and field filters (AND, OR, NOT, dossier:…) are not words and are left out."""
    words = [w.strip('"()*~').lower() for w in text.split()]
    words = [w for w in words if w and ":" not in w and w not in ("and", "or", "not")
             and not w.startswith("-")]
    if not words:
        return []
    query = _base().where(Judgement.note != "")
    for word in words[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(Judgement.note).like(pattern, escape="\\"))
    return _rows(session, query.order_by(Judgement.id.desc()).limit(limit))
