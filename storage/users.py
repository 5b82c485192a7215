"""Web UI users: salted scrypt password hashes and three roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import User

ROLES = ("reader", "editor", "admin")
#: What each role may do beyond reading (an admin may do everything).
RANK = {role: number for number, role in enumerate(ROLES)}
MIN_PASSWORD = 10

# scrypt parameters (n=2**15, r=8, p=1: ~32 MB, tens of milliseconds per check).
_N, _R, _P = 2**15, 8, 1


class UserError(ValueError):
    """A user cannot be created or changed; the message says why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 2**20)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                               p=int(p), maxmem=64 * 2**20)
    return hmac.compare_digest(candidate.hex(), digest)


def get_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def add_user(session: Session, username: str, password: str, role: str, *, now: datetime
             ) -> User:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UserError("a user name is 1–100 characters without spaces")
    if role not in ROLES:
        raise UserError(f"role is one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    if get_user(session, username) is not None:
        raise UserError(f"user {username!r} exists")
    user = User(username=username, password_hash=hash_password(password), role=role,
                active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)


#: Checked when a user name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = hash_password(secrets.token_hex(8))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = get_user(session, username.strip())
    if user is None or not user.active:
        check_password(_DUMMY, password)
        return None
    return user if check_password(user.password_hash, password) else None


def may(user: User | None, role: str) -> bool:
    """Whether ``user`` has at least ``role``."""
    return user is not None and user.active and RANK.get(user.role, -1) >= RANK[role]


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))
