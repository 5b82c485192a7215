"""The pages researchers use, at stable Dutch paths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitors.errors import QuerySyntaxError, TopicConfigError
from monitors.query import parse
from monitors.topics import Topic as TopicDefinition
from monitors.topics import check_examples, validate
from reports.history import word_diff
from reports.labels import describe_event, document_type
from reports.periods import LOCAL, week_of
from reports.render import safe_url
from storage import curation
from storage.digests import digest_list, subscribe, subscriber_topics, subscribers
from storage.models import (
    ChangeEvent,
    Delivery,
    Digest,
    Document,
    Identifier,
    Match,
    Record,
    Source,
    Subscriber,
    Topic,
    User,
    Version,
)
from storage.runs import source_health
from storage.timeline import timeline
from storage.topics import (
    backfill,
    definition_of,
    get_topic,
    list_topics,
    revisions,
    save_topic,
    set_active,
    topic_counts,
    weeks_between,
)
from storage.users import ROLES, UserError, add_user, authenticate, list_users, may
from web.common import db, now, query_url, throttle
from web.i18n import LANGS, translate

bp = Blueprint("web", __name__)

#: Identifier schemes shown as a document's references, in this order.
REFERENCE_SCHEMES = ("kamerstuk", "dossier", "zaak", "officielebekendmakingen", "procedure",
                     "celex", "eli", "ecli", "ep_document", "rvs_kenmerk", "artikel")


def _(text: str, **values: Any) -> str:
    return translate(text, getattr(g, "lang", "nl"), **values)


# --- users and roles -----------------------------------------------------------------------


@bp.before_app_request
def _load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        with db() as s:
            user = s.get(User, user_id)
            if user is not None and user.active and session.get("pw") == user.password_hash[-16:]:
                s.expunge(user)
                g.user = user
            else:
                session.pop("user_id", None)
    public = request.endpoint in ("web.login", "web.set_language", "static")
    if g.user is None and not public:
        if request.path.startswith("/api/") and request.authorization is not None:
            return None  # the API signs in with HTTP Basic (web.api)
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


def requires(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not may(g.user, role):
                abort(403)
            return view(*args, **kwargs)
        return checked
    return decorate


def _local_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and \
            not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("web.home")


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        client = request.remote_addr or "?"
        if throttle.blocked(client):
            error = _("Te veel pogingen; probeer het over een paar minuten opnieuw.")
        else:
            with db() as s:
                user = authenticate(s, request.form.get("username", ""),
                                    request.form.get("password", ""))
                if user is not None:
                    session.clear()
                    session.permanent = True
                    session["user_id"] = user.id
                    session["pw"] = user.password_hash[-16:]  # a new password ends old sessions
                    return redirect(_local_next(request.args.get("next")))
            throttle.failed(client)
            error = _("Onjuiste gebruikersnaam of wachtwoord.")
    return render_template("login.html", error=error), 200 if error is None else 401


@bp.post("/uitloggen")
def logout() -> Any:
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/taal/<lang>")
def set_language(lang: str) -> Any:
    if lang not in LANGS:
        abort(404)
    response = redirect(_local_next(request.args.get("next")))
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


# --- home ------------------------------------------------------------------------------------


def _references(s: Session, document_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {d: [] for d in document_ids}
    for start in range(0, len(document_ids), 500):
        chunk = document_ids[start:start + 500]
        for document_id, scheme, value in s.execute(
                select(Identifier.document_id, Identifier.scheme, Identifier.value)
                .where(Identifier.document_id.in_(chunk),
                       Identifier.scheme.in_(REFERENCE_SCHEMES))
                .order_by(Identifier.id)):
            pair = (scheme, value)
            if pair not in found[document_id]:
                found[document_id].append(pair)
    for document_id in found:
        found[document_id].sort(key=lambda p: REFERENCE_SCHEMES.index(p[0]))
    return found


def _topics_of(s: Session, document_ids: list[int]) -> dict[int, list[Topic]]:
    found: dict[int, list[Topic]] = {d: [] for d in document_ids}
    for start in range(0, len(document_ids), 500):
        chunk = document_ids[start:start + 500]
        for document_id, topic in s.execute(
                select(Match.document_id, Topic).join(Topic, Match.topic_id == Topic.id)
                .where(Match.document_id.in_(chunk)).distinct().order_by(Topic.slug)):
            if topic not in found[document_id]:
                found[document_id].append(topic)
    return found


@bp.get("/")
def home() -> Any:
    with db() as s:
        latest = s.scalars(select(Digest).order_by(Digest.week.desc(), Digest.id.desc())
                           .limit(1)).first()
        newest_event = s.scalar(select(func.max(ChangeEvent.detected_at)))
        week = week_of((newest_event or now()).astimezone(LOCAL).date())
        matched = select(Match.document_id).distinct()
        rows = s.execute(
            select(ChangeEvent, Record, Source.slug)
            .join(Record, ChangeEvent.record_id == Record.id)
            .join(Source, Record.source_id == Source.id)
            .where(ChangeEvent.detected_at >= week.start, ChangeEvent.detected_at < week.end,
                   ChangeEvent.document_id.in_(matched))
            .order_by(ChangeEvent.detected_at.desc(), ChangeEvent.id.desc()).limit(200)).all()
        document_ids = sorted({event.document_id for event, _r, _s in rows})
        topics = _topics_of(s, document_ids)
        counts: dict[str, int] = {}
        for event, _r, _s in rows:
            counts[event.kind] = counts.get(event.kind, 0) + 1
        digest_counts = None
        if latest is not None:
            digest_counts = {k: sum(t.get("counts", {}).get(k, 0) for t in
                                    latest.data.get("topics", []))
                             for k in ("new", "changed", "status", "removed")}
        return render_template("home.html", latest=latest, digest_counts=digest_counts,
                               week=week, rows=rows, topics=topics, counts=counts)


# --- documents -------------------------------------------------------------------------------


def _diff_html(before: Version, after: Version) -> Markup:
    parts = []
    for op, text in word_diff(before.title + "\n" + before.text, after.title + "\n" + after.text):
        if op == "=":
            parts.append(Markup("<span>{}</span>").format(text))
        elif op == "-":
            parts.append(Markup("<del>{}</del>").format(text))
        else:
            parts.append(Markup("<ins>{}</ins>").format(text))
    return Markup(" ").join(parts)


def _side_by_side(before: Version, after: Version) -> list[tuple[Markup, Markup]]:
    """Rows of (left, right): unchanged text on both sides, removed left, added right."""
    rows: list[tuple[Markup, Markup]] = []
    for op, text in word_diff(before.title + "\n" + before.text, after.title + "\n" + after.text):
        if op == "=":
            rows.append((Markup("{}").format(text), Markup("{}").format(text)))
        elif op == "-":
            rows.append((Markup("<del>{}</del>").format(text), Markup("")))
        else:
            if rows and rows[-1][1] == "" and rows[-1][0].startswith("<del>"):
                rows[-1] = (rows[-1][0], Markup("<ins>{}</ins>").format(text))
            else:
                rows.append((Markup(""), Markup("<ins>{}</ins>").format(text)))
    return rows


@bp.get("/documenten/<int:document_id>")
def document(document_id: int) -> Any:
    with db() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            abort(404)
        if doc.merged_into is not None:
            from storage.identity import resolve

            return redirect(url_for("web.document", document_id=resolve(s, document_id)), 301)
        records = []
        for record in s.scalars(select(Record).where(Record.document_id == doc.id)
                                .order_by(Record.id)):
            versions = list(s.scalars(select(Version).where(Version.record_id == record.id)
                                      .order_by(Version.number)))
            ids = s.execute(select(Identifier.scheme, Identifier.value)
                            .where(Identifier.record_id == record.id)
                            .order_by(Identifier.id)).all()
            diff = None
            if len(versions) >= 2:
                numbers = {v.number: v for v in versions}
                a = numbers.get(request.args.get(f"van{record.id}", type=int) or
                                versions[-2].number, versions[-2])
                b = numbers.get(request.args.get(f"naar{record.id}", type=int) or
                                versions[-1].number, versions[-1])
                diff = {"from": a, "to": b, "inline": _diff_html(a, b),
                        "side": _side_by_side(a, b)}
            records.append({"record": record, "source": s.get(Source, record.source_id),
                            "versions": versions, "ids": ids, "diff": diff})
        events = list(s.scalars(select(ChangeEvent).where(ChangeEvent.document_id == doc.id)
                                .order_by(ChangeEvent.detected_at, ChangeEvent.id)))
        matches = s.execute(select(Match, Topic).join(Topic, Match.topic_id == Topic.id)
                            .where(Match.document_id == doc.id)
                            .order_by(Topic.slug, Match.id.desc())).all()
        newest_by_topic: dict[int, tuple[Match, Topic]] = {}
        for match, topic in matches:
            newest_by_topic.setdefault(topic.id, (match, topic))
        judgements = curation.for_document(s, doc.id)
        return render_template(
            "document.html", doc=doc, records=records, events=events,
            matches=list(newest_by_topic.values()), judgements=judgements,
            topics=list_topics(s), view=request.args.get("weergave", "inline"))


@bp.post("/documenten/<int:document_id>/oordeel")
def judge(document_id: int) -> Any:
    with db() as s:
        if s.get(Document, document_id) is None:
            abort(404)
        slug = request.form.get("topic") or None
        topic = get_topic(s, slug) if slug else None
        if slug and topic is None:
            abort(400)
        verdict = request.form.get("verdict") or None
        user = s.get(User, g.user.id)
        try:
            curation.judge(s, document_id=document_id, user=user, topic=topic, verdict=verdict,
                           note=request.form.get("note", ""), now=now())
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Opgeslagen."), "ok")
    return redirect(url_for("web.document", document_id=document_id) + "#oordelen")


# --- dossiers --------------------------------------------------------------------------------


#: The dossier page's own words (stages and links), per language. Stage names come from
#: storage.timeline in both languages.
DOSSIER_WORDS = {
    "nl": {"stages": "Verloop", "current": "Stand volgens de bron", "state_done": "gebeurd",
           "state_current": "loopt", "state_planned": "gepland",
           "state_unknown": "niet in het archief", "documents": "documenten",
           "linked_procedure": "Nederlandse documenten over deze procedure",
           "linked_dossier": "Gekoppeld op titel", "kind": "soort", "why": "waarom",
           "procedure": "EU-procedure"},
    "en": {"stages": "Stages", "current": "Where it stands, says the source",
           "state_done": "happened", "state_current": "under way", "state_planned": "planned",
           "state_unknown": "not in the archive", "documents": "documents",
           "linked_procedure": "Dutch documents about this procedure",
           "linked_dossier": "Linked by title", "kind": "kind", "why": "why",
           "procedure": "EU procedure"},
}


@bp.get("/dossiers/<path:key>")
def dossier(key: str) -> Any:
    with db() as s:
        try:
            found = timeline(s, key)
        except ValueError:
            abort(404)
        lang = getattr(g, "lang", "nl")
        return render_template("dossier.html", t=found, requested=key, lang=lang,
                               words=DOSSIER_WORDS.get(lang, DOSSIER_WORDS["nl"]))


# --- digests ---------------------------------------------------------------------------------


@bp.get("/digests")
def digests() -> Any:
    with db() as s:
        rows = digest_list(s)
        return render_template("digests.html", rows=rows)


def _digest_or_404(s: Session, digest_id: int) -> Digest:
    row = s.get(Digest, digest_id)
    if row is None:
        abort(404)
    return row


@bp.get("/digests/<int:digest_id>")
def digest(digest_id: int) -> Any:
    with db() as s:
        row = _digest_or_404(s, digest_id)
        sent = s.execute(select(Delivery, Subscriber)
                         .join(Subscriber, Delivery.subscriber_id == Subscriber.id)
                         .where(Delivery.digest_id == row.id).order_by(Subscriber.email)).all()
        return render_template("digest.html", digest=row, deliveries=sent)


@bp.get("/digests/<int:digest_id>/als-verzonden")
def digest_as_sent(digest_id: int) -> Any:
    """The digest's HTML exactly as it was stored and sent (shown in a sandboxed frame)."""
    with db() as s:
        row = _digest_or_404(s, digest_id)
        response = make_response(row.html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- topics ----------------------------------------------------------------------------------


@bp.get("/onderwerpen")
def topics() -> Any:
    with db() as s:
        rows = list_topics(s)
        counts = topic_counts(s)
        quality = {row.id: curation.quality(s, row) for row in rows}
        return render_template("topics.html", rows=rows, counts=counts, quality=quality)


def _form_topic(existing: Topic | None) -> TopicDefinition:
    form = request.form
    variants = {}
    for lang in ("en", "nl"):
        value = form.get(f"variant_{lang}", "").strip()
        if value:
            variants[lang] = value
    return TopicDefinition(
        slug=(existing.slug if existing else form.get("slug", "").strip()),
        title=form.get("title", "").strip(), query=form.get("query", "").strip(),
        description=form.get("description", "").strip(), variants=variants,
        exclusions=form.get("exclusions", "").strip(),
        owner=form.get("owner", "").strip() or None,
        active=existing.active if existing else True,
        examples_match=[line.strip() for line in form.get("examples_match", "").splitlines()
                        if line.strip()],
        examples_no_match=[line.strip() for line in
                           form.get("examples_no_match", "").splitlines() if line.strip()],
    )


def topic_as_query(definition: TopicDefinition) -> str:
    """One query for the whole topic: its query or a language variant, and not an exclusion."""
    combined = " OR ".join(f"({q})" for q in (definition.query, *definition.variants.values())
                           if q.strip())
    if definition.exclusions.strip():
        combined = f"({combined}) AND NOT ({definition.exclusions})"
    return combined


def _preview(s: Session, definition: TopicDefinition) -> dict[str, Any]:
    """What the topic would match in the archive now (through the search index, so it stays
    fast at archive scale) and its weekly volume over the last 26 weeks."""
    from storage import search as archive_search

    query = topic_as_query(definition)
    archive_search.load_counts(s)
    result = archive_search.search(s, query, sort="date", limit=25)
    today = now().astimezone(LOCAL).date()
    first = today - timedelta(weeks=25)
    weeks = weeks_between(first, today)
    recent = archive_search.find(s, query, since=first - timedelta(days=first.weekday()))
    weekly: dict[str, int] = {}
    version_ids = sorted(recent.values())
    for start in range(0, len(version_ids), 500):
        for published, fetched in s.execute(
                select(Version.published_at, Version.fetched_at)
                .where(Version.id.in_(version_ids[start:start + 500]))).all():
            year, week, _ = (published or fetched).astimezone(LOCAL).isocalendar()
            label = f"{year}-W{week:02d}"
            weekly[label] = weekly.get(label, 0) + 1
    volume = [(w, weekly.get(w, 0)) for w in weeks]
    peak = max([n for _w, n in volume] + [1])
    return {"total": result.total, "hits": result.hits, "volume": volume, "peak": peak}


def _topic_form(existing: Topic | None) -> Any:
    with db() as s:
        if request.method == "GET":
            if existing is not None:
                definition = definition_of(existing)
            else:
                definition = TopicDefinition(slug="", title="", query=request.args.get("q", ""))
            return render_template("topic_form.html", existing=existing, d=definition,
                                   preview=None, errors=[], warnings=[])
        definition = _form_topic(existing)
        errors: list[str] = []
        for label, query in (("query", definition.query), ("exclusions", definition.exclusions),
                             *((f"variant {k}", v) for k, v in definition.variants.items())):
            if not query:
                continue
            try:
                parse(query)
            except QuerySyntaxError as exc:
                errors.append(f"{label}: {exc}")
        if existing is None and get_topic(s, definition.slug) is not None:
            errors.append(f"slug {definition.slug!r} exists")
        preview = None
        warnings: list[str] = []
        if not errors:
            try:
                validate(definition)
            except TopicConfigError as exc:
                errors.append(str(exc))
        if not errors:
            warnings = check_examples(definition)
            preview = _preview(s, definition) if definition.query else None
        if errors or request.form.get("action") != "save":
            return render_template("topic_form.html", existing=existing, d=definition,
                                   preview=preview, errors=errors, warnings=warnings), (
                422 if errors else 200)
        row, _created = save_topic(s, definition, by=g.user.username, now=now())
        count = backfill(s, [row], now=now())
        flash(_("Opgeslagen.") + f" {count}", "ok")
        return redirect(url_for("web.topic", slug=row.slug))


@bp.route("/onderwerpen/nieuw", methods=["GET", "POST"])
@requires("editor")
def topic_new() -> Any:
    return _topic_form(None)


@bp.route("/onderwerpen/<slug>/bewerken", methods=["GET", "POST"])
@requires("editor")
def topic_edit(slug: str) -> Any:
    with db() as s:
        existing = get_topic(s, slug)
        if existing is None:
            abort(404)
        s.expunge(existing)
    return _topic_form(existing)


@bp.get("/onderwerpen/<slug>")
def topic(slug: str) -> Any:
    with db() as s:
        row = get_topic(s, slug)
        if row is None:
            abort(404)
        recent = s.execute(
            select(Match, Document).join(Document, Match.document_id == Document.id)
            .where(Match.topic_id == row.id, Document.merged_into.is_(None))
            .order_by(Match.matched_at.desc(), Match.id.desc()).limit(300)).all()
        seen: set[int] = set()
        latest = []
        for match, doc in recent:
            if doc.id not in seen:
                seen.add(doc.id)
                latest.append((match, doc))
        verdicts = curation.current_verdicts(s, row)
        return render_template(
            "topic.html", row=row, history=revisions(s, row), latest=latest[:50],
            verdicts=verdicts, quality=curation.quality(s, row),
            judgements=curation.for_topic(s, row, limit=50))


@bp.post("/onderwerpen/<slug>/actief")
@requires("editor")
def topic_active(slug: str) -> Any:
    with db() as s:
        row = get_topic(s, slug)
        if row is None:
            abort(404)
        set_active(s, row, request.form.get("active") == "1", by=g.user.username, now=now())
    return redirect(url_for("web.topic", slug=slug))


# --- sources ---------------------------------------------------------------------------------


@bp.get("/bronnen")
def sources() -> Any:
    with db() as s:
        health = source_health(s)
        return render_template("sources.html", health=health)


@bp.post("/bronnen")
@requires("editor")
def source_add() -> Any:
    from crawler.sources import SourceRefused, add_source

    form = request.form
    try:
        with db() as s:
            added = add_source(s, kind=form.get("kind", ""), url=form.get("url", ""),
                               title=form.get("title") or None, slug=form.get("slug") or None,
                               selector=form.get("selector") or None, now=now())
            slug = added.source.slug
    except SourceRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("web.sources"))
    flash(_("Toegevoegd: {slug}", slug=slug), "ok")
    if added.warning:
        flash(_("Let op: {reason}", reason=added.warning), "warning")
    return redirect(url_for("web.sources"))


@bp.post("/bronnen/<slug>/verwijderen")
@requires("editor")
def source_remove(slug: str) -> Any:
    from crawler.sources import SourceRefused, remove_source

    try:
        with db() as s:
            remove_source(s, slug)
    except SourceRefused as exc:
        flash(str(exc), "error")
    return redirect(url_for("web.sources"))


# --- subscriptions and users -----------------------------------------------------------------


@bp.get("/abonnementen")
def subscriptions() -> Any:
    with db() as s:
        people = [(p, subscriber_topics(s, p)) for p in subscribers(s, active_only=False)]
        return render_template("subscriptions.html", people=people, topics=list_topics(s))


@bp.post("/abonnementen")
@requires("admin")
def subscription_add() -> Any:
    form = request.form
    email = form.get("email", "").strip()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        flash(f"{email!r}: not an e-mail address", "error")
        return redirect(url_for("web.subscriptions"))
    with db() as s:
        chosen = [t for t in list_topics(s) if t.slug in form.getlist("topics")]
        subscribe(s, email=email, name=form.get("name", "").strip(),
                  lang=form.get("lang") if form.get("lang") in LANGS else "nl", topics=chosen,
                  now=now())
    flash(_("Opgeslagen."), "ok")
    return redirect(url_for("web.subscriptions"))


@bp.post("/abonnementen/<int:subscriber_id>/opzeggen")
@requires("admin")
def subscription_remove(subscriber_id: int) -> Any:
    with db() as s:
        person = s.get(Subscriber, subscriber_id)
        if person is None:
            abort(404)
        person.active = False
    return redirect(url_for("web.subscriptions"))


@bp.route("/gebruikers", methods=["GET", "POST"])
@requires("admin")
def users() -> Any:
    with db() as s:
        if request.method == "POST":
            try:
                add_user(s, request.form.get("username", ""), request.form.get("password", ""),
                         request.form.get("role", "reader"), now=now())
                flash(_("Opgeslagen."), "ok")
            except UserError as exc:
                flash(str(exc), "error")
            return redirect(url_for("web.users"))
        return render_template("users.html", rows=list_users(s), roles=ROLES)


# --- search ----------------------------------------------------------------------------------

from web.search import search_page  # noqa: E402  (the search page has a module of its own)

bp.add_url_rule("/zoeken", view_func=search_page, endpoint="search")


# --- filters and errors ----------------------------------------------------------------------


def _local_time(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return "—"
    local = value.astimezone(LOCAL)
    if getattr(g, "lang", "nl") == "en":
        return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    return local.strftime("%d-%m-%Y %H:%M" if with_time else "%d-%m-%Y")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["when"] = _local_time
    app.jinja_env.filters["day"] = lambda v: _local_time(v, with_time=False)
    app.jinja_env.filters["doc_type"] = lambda v: document_type(v, getattr(g, "lang", "nl"))
    app.jinja_env.filters["safe_url"] = safe_url
    app.jinja_env.filters["references"] = lambda pairs: [
        pair for pair in pairs if pair[0] in REFERENCE_SCHEMES]
    app.jinja_env.globals["describe_event"] = (
        lambda e: describe_event(e.kind, e.detail or {}, getattr(g, "lang", "nl")))
    app.jinja_env.globals["may"] = lambda role: may(getattr(g, "user", None), role)
    app.jinja_env.globals["query_url"] = query_url
    app.jinja_env.globals["timeline_link"] = _timeline_link
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _timeline_link(scheme: str, value: str) -> str | None:
    if scheme == "dossier":
        return url_for("web.dossier", key=value)
    if scheme == "procedure":
        return url_for("web.dossier", key=value)
    return None


def register_errors(app: Flask) -> None:
    def page(code: int, message: str) -> Response:
        if request.path.startswith("/api/"):
            response = make_response({"error": message}, code)
        else:
            response = make_response(render_template("error.html", code=code, message=message),
                                     code)
        if code == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="beleidsradar"'
        return response

    app.register_error_handler(400, lambda e: page(
        400, _("Het formulier is verlopen; probeer het opnieuw.")
        if getattr(e, "description", "") == "csrf" else str(e.description)))
    app.register_error_handler(401, lambda e: page(401, _("Inloggen")))
    app.register_error_handler(403, lambda e: page(403, _("Dit mag uw rol niet.")))
    app.register_error_handler(404, lambda e: page(404, _("Pagina niet gevonden.")))
