"""The researchers' web app (Flask, server-rendered Jinja2, no JavaScript needed).

Every page needs a signed-in user; readers read, editors also change topics and sources,
admins also manage users and subscriptions. Every form carries a CSRF token; session cookies
are HttpOnly, SameSite=Lax and Secure unless the app is told it is served over plain HTTP on
this machine (``beleidsradar serve`` on a loopback address). Crawled text reaches the pages
only through Jinja2's autoescaping; links from sources only when they are http(s).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, abort, g, request, session

from storage.db import check_schema, make_engine, session_factory
from web.i18n import LANGS, translate

#: Signed-in sessions last this long without activity.
SESSION_LIFETIME = timedelta(hours=12)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config["DATABASE_URL"]`` names the archive and ``SECRET_KEY`` signs
    sessions (both required). ``SECURE_COOKIES`` (default True) marks cookies Secure."""
    app = Flask(__name__)
    app.config.update(config or {})
    if not app.config.get("DATABASE_URL"):
        raise ValueError("create_app needs DATABASE_URL")
    if not app.config.get("SECRET_KEY"):
        raise ValueError("create_app needs SECRET_KEY (BELEIDSRADAR_SECRET_KEY)")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("SECURE_COOKIES", True)),
        SESSION_COOKIE_NAME="beleidsradar_session",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    engine = make_engine(app.config["DATABASE_URL"])
    check_schema(engine)
    app.extensions["beleidsradar_sessions"] = session_factory(engine)
    app.extensions["beleidsradar_engine"] = engine

    @app.before_request
    def _csrf_and_lang() -> None:
        g.lang = request.cookies.get("lang") if request.cookies.get("lang") in LANGS else "nl"
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
            expected = session.get("csrf_token", "")
            if not expected or not secrets.compare_digest(str(sent), str(expected)):
                abort(400, description="csrf")

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        if "csrf_token" not in session:
            session["csrf_token"] = secrets.token_urlsafe(32)
        lang = getattr(g, "lang", "nl")
        return {"_": lambda text, **values: translate(text, lang, **values), "lang": lang,
                "csrf_token": session["csrf_token"], "user": getattr(g, "user", None)}

    from web import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    views.register_filters(app)
    views.register_errors(app)
    return app
