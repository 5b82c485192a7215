"""Sent digests, their ledger, subscribers and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import Delivery, Digest, DigestEntry, Subscriber, Subscription, Topic


def stored_digest(session: Session, week: str) -> Digest | None:
    """The digest stored for ``week`` (the first one; a week is stored once)."""
    return session.scalars(select(Digest).where(Digest.week == week).order_by(Digest.id)
                           .limit(1)).first()


def digest_list(session: Session) -> list[tuple[Digest, int]]:
    """Every stored digest, newest week first, with how many mails of it were sent."""
    rows = session.execute(
        select(Digest, func.count(Delivery.id))
        .outerjoin(Delivery, (Delivery.digest_id == Digest.id) & (Delivery.status == "sent"))
        .group_by(Digest.id).order_by(Digest.week.desc(), Digest.id.desc())).all()
    return [(digest, sent) for digest, sent in rows]


def store_digest(session: Session, *, week: str, lang: str, data: dict[str, Any],
                 html: str, text: str, markdown: str, now: datetime) -> Digest:
    """Store a built digest and its ledger (event × topic it reported)."""
    row = Digest(week=week, lang=lang, created_at=now, topics=data["topic_definitions"],
                 html=html, text=text, markdown=markdown, data=data)
    session.add(row)
    session.flush()
    topic_ids = dict(session.execute(select(Topic.slug, Topic.id)).all())
    reported: set[tuple[int, int | None]] = set()
    for section in data["topics"]:
        for entry in section["entries"] + section["weak"]:
            for event in entry["events"]:
                reported.add((event["id"], topic_ids.get(section["slug"])))
        for reference in section["see_also"]:
            for entry in (e for t in data["topics"] for e in t["entries"]
                          if e["document_id"] == reference["document_id"]):
                for event in entry["events"]:
                    reported.add((event["id"], topic_ids.get(section["slug"])))
    for event_id, topic_id in sorted(reported, key=lambda x: (x[0], x[1] or 0)):
        session.add(DigestEntry(digest_id=row.id, event_id=event_id, topic_id=topic_id))
    session.flush()
    return row


def subscribers(session: Session, *, active_only: bool = True) -> list[Subscriber]:
    query = select(Subscriber).order_by(Subscriber.email)
    if active_only:
        query = query.where(Subscriber.active.is_(True))
    return list(session.scalars(query))


def subscriber_topics(session: Session, subscriber: Subscriber) -> list[str]:
    return list(session.scalars(
        select(Topic.slug).join(Subscription, Subscription.topic_id == Topic.id)
        .where(Subscription.subscriber_id == subscriber.id).order_by(Topic.slug)
    ))


def subscribe(session: Session, *, email: str, name: str, lang: str, topics: list[Topic],
              now: datetime) -> Subscriber:
    """Create or update a subscriber with exactly these topics."""
    row = session.scalars(select(Subscriber).where(Subscriber.email == email)).one_or_none()
    if row is None:
        row = Subscriber(email=email, created_at=now)
        session.add(row)
    row.name, row.lang, row.active = name, lang, True
    session.flush()
    session.execute(delete(Subscription).where(Subscription.subscriber_id == row.id))
    for topic in topics:
        session.add(Subscription(subscriber_id=row.id, topic_id=topic.id))
    session.flush()
    return row


def delivery(session: Session, digest: Digest, subscriber: Subscriber) -> Delivery | None:
    return session.scalars(select(Delivery).where(
        Delivery.digest_id == digest.id, Delivery.subscriber_id == subscriber.id)).one_or_none()


def deliveries(session: Session, digest: Digest) -> list[tuple[Delivery, Subscriber]]:
    return list(session.execute(
        select(Delivery, Subscriber).join(Subscriber, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.digest_id == digest.id).order_by(Subscriber.email)
    ).all())
