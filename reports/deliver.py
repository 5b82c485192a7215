"""Delivering a week's digest to subscribers: store it once, send each subscriber their topics.

The digest of a week is built and stored once (with its ledger and the topic definitions
used); every mail is rendered from that stored data, so a re-send is the same digest. Each
delivery is recorded before and after sending: a run that is interrupted leaves `sending`
rows, which are reported as uncertain and not sent again automatically (no double mail);
failed deliveries are retried on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from reports.digest import Digest, build_digest
from reports.mail import MailSettings, SendError, build_message, send
from reports.periods import Week
from reports.render import render
from storage.digests import delivery, store_digest, stored_digest, subscriber_topics, subscribers
from storage.models import Delivery, Subscriber
from storage.models import Digest as DigestRow


@dataclass
class DeliveryResult:
    email: str
    status: str  # sent | failed | already-sent | uncertain | no-topics
    attempts: int = 0
    error: str | None = None
    topics: tuple[str, ...] = ()


def ensure_stored(Session: sessionmaker[Session], week: Week, now: datetime) -> int:
    """The id of the stored digest of ``week``, building and storing it if needed."""
    with Session.begin() as session:
        row = stored_digest(session, week.label)
        if row is not None:
            return row.id
        built = build_digest(session, week, lang="nl")
        row = store_digest(
            session, week=week.label, lang="nl", data=built.to_dict(),
            html=render(built, "html"), text=render(built, "txt"), markdown=render(built, "md"),
            now=now,
        )
        return row.id


def deliver(
    Session: sessionmaker[Session], digest_id: int, settings: MailSettings, *,
    now: Callable[[], datetime], resend: bool = False, only: str | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[DeliveryResult]:
    """Send the stored digest to every active subscriber (or ``only`` one)."""
    results = []
    with Session() as session:
        people = [(s.id, s.email, s.name, s.lang, tuple(subscriber_topics(session, s)))
                  for s in subscribers(session) if only is None or s.email == only]
    for subscriber_id, email, name, lang, topics in people:
        if not topics:
            results.append(DeliveryResult(email, "no-topics"))
            continue
        with Session.begin() as session:
            row = session.get(DigestRow, digest_id)
            assert row is not None
            person = session.get(Subscriber, subscriber_id)
            assert person is not None
            record = delivery(session, row, person)
            if record is not None and not resend:
                if record.status == "sent":
                    results.append(DeliveryResult(email, "already-sent", record.attempts,
                                                  topics=topics))
                    continue
                if record.status == "sending":
                    results.append(DeliveryResult(
                        email, "uncertain", record.attempts,
                        "an earlier run stopped while sending: check the mailbox, then "
                        "use --resend --to to send again", topics))
                    continue
            if record is None:
                record = Delivery(digest_id=row.id, subscriber_id=person.id, status="sending",
                                  attempts=0, topics=list(topics), updated_at=now())
                session.add(record)
            record.status, record.topics, record.updated_at = "sending", list(topics), now()
            session.flush()
            delivery_id = record.id
            digest = Digest.from_dict(row.data).only_topics(set(topics))
        digest.lang = lang
        message = build_message(digest, to=email, name=name,
                                settings=settings, sent_at=now())
        try:
            attempts = send(message, settings, **({"sleep": sleep} if sleep else {}))
            status, error = "sent", None
        except SendError as exc:
            attempts, status, error = exc.attempts, "failed", str(exc)
        with Session.begin() as session:
            record = session.get(Delivery, delivery_id)
            assert record is not None
            record.status, record.error, record.updated_at = status, error, now()
            record.attempts += attempts
            record.message_id = str(message["Message-ID"])
            row = session.get(DigestRow, digest_id)
            assert row is not None
            if status == "sent" and row.sent_at is None:
                row.sent_at = now()
        results.append(DeliveryResult(email, status, attempts, error, topics))
    return results
