"""The researchers' web app (Flask). For now the app factory and a read-only JSON view of source
health; search, digests and topic management come with the web UI issue."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from storage.db import check_schema, make_engine, session_factory
from storage.runs import source_health


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config["DATABASE_URL"]`` names the archive (required)."""
    app = Flask(__name__)
    app.config.update(config or {})
    if not app.config.get("DATABASE_URL"):
        raise ValueError("create_app needs DATABASE_URL")
    engine = make_engine(app.config["DATABASE_URL"])
    check_schema(engine)
    Session = session_factory(engine)

    @app.get("/api/bronnen")
    def sources() -> Any:
        with Session() as session:
            return jsonify([
                {
                    "bron": h.slug,
                    "titel": h.title,
                    "records": h.records,
                    "status": h.health,
                    "laatste_run": h.last_run.started_at.isoformat() if h.last_run else None,
                    "laatst_gelukt": h.last_success_at.isoformat() if h.last_success_at else None,
                    "fouten": list(h.last_run.errors) if h.last_run else [],
                }
                for h in source_health(session)
            ])

    return app
