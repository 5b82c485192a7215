"""Mailing digests: one multipart (plain text + HTML) message per subscriber, sent over SMTP.

Sending is retried with back-off; what finally fails is raised as ``SendError`` with the
reason, so the caller records it (never lost silently). A message is *sent* once the server
answered 250 to its DATA (it has taken responsibility for it, RFC 5321 §4.1.1.4): whatever goes
wrong after that (QUIT answered with an error, the connection dropped) is logged, never retried,
as a retry would deliver the digest twice. An error before that is a failed send, retried.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from reports.digest import Digest
from reports.labels import t
from reports.render import render_html, render_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    host: str = "localhost"
    port: int = 25
    tls: str = "none"  # none | starttls | ssl
    user: str | None = None
    password: str | None = None
    sender: str = "beleidsradar@localhost"
    timeout: float = 30.0
    attempts: int = 3
    backoff: float = 2.0  # seconds before the 2nd attempt; doubles after each failure


class SendError(Exception):
    """A message could not be delivered after every attempt."""

    def __init__(self, message: str, attempts: int):
        super().__init__(message)
        self.attempts = attempts


def build_message(digest: Digest, *, to: str, name: str, settings: MailSettings,
                  sent_at: object) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = t("title", digest.lang, week=digest.week)
    message["From"] = settings.sender
    message["To"] = f"{name} <{to}>" if name else to
    message["Date"] = format_datetime(sent_at)  # type: ignore[arg-type]
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(render_text(digest))
    message.add_alternative(render_html(digest), subtype="html")
    return message


def send(message: EmailMessage, settings: MailSettings,
         sleep: Callable[[float], None] = time.sleep) -> int:
    """Send with retries; returns the number of attempts used, or raises SendError."""
    delay = settings.backoff
    last_error = ""
    for attempt in range(1, settings.attempts + 1):
        try:
            _send_once(message, settings)
            return attempt
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {exc.recipients}", attempt) from exc
        except (smtplib.SMTPException, OSError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            if attempt < settings.attempts:
                sleep(delay)
                delay *= 2
    raise SendError(last_error, settings.attempts)


def _send_once(message: EmailMessage, settings: MailSettings) -> None:
    if settings.tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                                timeout=settings.timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.tls == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.user:
            client.login(settings.user, settings.password or "")
        # Returns only when the server answered 250 to the end of DATA (else it raises).
        client.send_message(message)
    except BaseException:
        _quit(client, settings, None)
        raise
    # Accepted: from here on nothing may turn the delivery into a failure to retry.
    _quit(client, settings, str(message["Message-ID"]))


def _quit(client: smtplib.SMTP, settings: MailSettings, accepted: str | None) -> None:
    """End the session politely (QUIT) and close it, whatever the server does. ``accepted``
    names the message the server took: a failing QUIT is then worth a line in the log."""
    try:
        code, reply = client.docmd("QUIT")
        if code != 221 and accepted:
            logger.warning("smtp.quit_refused host=%s code=%s reply=%s accepted=%s",
                           settings.host, code, reply.decode("utf-8", "replace"), accepted)
    except (smtplib.SMTPException, OSError) as exc:
        if accepted:
            logger.warning("smtp.quit_failed host=%s error=%s: %s accepted=%s", settings.host,
                           type(exc).__name__, exc, accepted)
    finally:
        client.close()
