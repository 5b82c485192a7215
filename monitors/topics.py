"""Watch topics as data: the Topic record, TOML import/export, validation and example checks.

A topics file holds ``[[topic]]`` tables::

    [[topic]]
    slug = "herziening-273f"                 # permanent: the key of matches and the digest ledger
    title = "Herziening art. 273f Sr"
    description = "…"
    query = 'dossier:36547 OR artikel:273f'
    variants = { en = '"trafficking in human beings" article 273f' }   # optional
    exclusions = ''                          # optional query; a match of it vetoes the topic
    owner = "onderzoek"                      # optional
    active = true                            # optional, default true
    examples.match = ["Nota van wijziging wetsvoorstel modernisering strafbaarstelling mensenhandel"]
    examples.no_match = ["Motie over de woningmarkt"]

Example sentences are matched as an item's title; ``check_examples`` says which fail.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitors.errors import QuerySyntaxError, TopicConfigError
from monitors.matching import CompiledTopic, MatchDoc, TopicQuery, prepare
from monitors.query import parse

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,98}[a-z0-9]")
DEFAULT_TOPICS = Path(__file__).parent / "topics.toml"


@dataclass
class Topic:
    slug: str
    title: str
    query: str
    description: str = ""
    variants: dict[str, str] = field(default_factory=dict)
    exclusions: str = ""
    owner: str | None = None
    active: bool = True
    examples_match: list[str] = field(default_factory=list)
    examples_no_match: list[str] = field(default_factory=list)

    def as_query(self) -> TopicQuery:
        return TopicQuery(self.slug, self.query, dict(self.variants), self.exclusions)

    def to_toml_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"slug": self.slug, "title": self.title}
        if self.description:
            data["description"] = self.description
        data["query"] = self.query
        if self.variants:
            data["variants"] = dict(self.variants)
        if self.exclusions:
            data["exclusions"] = self.exclusions
        if self.owner:
            data["owner"] = self.owner
        if not self.active:
            data["active"] = False
        if self.examples_match or self.examples_no_match:
            data["examples"] = {"match": list(self.examples_match),
                                "no_match": list(self.examples_no_match)}
        return data


def validate(topic: Topic) -> None:
    """Raise TopicConfigError when the topic cannot be used (slug, title, queries)."""
    if not SLUG.fullmatch(topic.slug):
        raise TopicConfigError(
            f"slug {topic.slug!r}: use 3-100 lower-case letters, digits and hyphens"
        )
    if not topic.title.strip():
        raise TopicConfigError(f"{topic.slug}: a title is required")
    for label, query in [("query", topic.query), *[(f"variant {k}", v) for k, v in
                                                     topic.variants.items()]]:
        try:
            parse(query)
        except QuerySyntaxError as exc:
            raise TopicConfigError(f"{topic.slug}: {label}: {exc}") from exc
    if topic.exclusions.strip():
        try:
            parse(topic.exclusions)
        except QuerySyntaxError as exc:
            raise TopicConfigError(f"{topic.slug}: exclusions: {exc}") from exc


def check_examples(topic: Topic) -> list[str]:
    """The examples that do not behave as the topic says, as readable lines (empty = all fine)."""
    compiled = CompiledTopic(topic.as_query())
    problems = []
    for sentence in topic.examples_match:
        if compiled.match(prepare(MatchDoc(title=sentence, text=""))) is None:
            problems.append(f"{topic.slug}: should match but does not: {sentence!r}")
    for sentence in topic.examples_no_match:
        if compiled.match(prepare(MatchDoc(title=sentence, text=""))) is not None:
            problems.append(f"{topic.slug}: should not match but does: {sentence!r}")
    return problems


def topic_from_dict(data: dict[str, Any]) -> Topic:
    known = {"slug", "title", "description", "query", "variants", "exclusions", "owner", "active",
             "examples"}
    unknown = set(data) - known
    if unknown:
        raise TopicConfigError(
            f"{data.get('slug', '?')}: unknown keys {', '.join(sorted(unknown))}"
        )
    for required in ("slug", "title", "query"):
        if not isinstance(data.get(required), str):
            raise TopicConfigError(f"{data.get('slug', '?')}: '{required}' (text) is required")
    examples = data.get("examples") or {}
    topic = Topic(
        slug=data["slug"],
        title=data["title"],
        query=data["query"],
        description=data.get("description", ""),
        variants=dict(data.get("variants") or {}),
        exclusions=data.get("exclusions", ""),
        owner=data.get("owner"),
        active=bool(data.get("active", True)),
        examples_match=list(examples.get("match", [])),
        examples_no_match=list(examples.get("no_match", [])),
    )
    validate(topic)
    return topic


def load_topics(path: Path) -> list[Topic]:
    """Topics from a TOML file; TopicConfigError for unreadable files, bad topics, duplicates."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TopicConfigError(f"cannot read {path}: {exc}") from exc
    tables = data.get("topic", [])
    if not isinstance(tables, list):
        raise TopicConfigError(f"{path}: expected [[topic]] tables")
    topics = [topic_from_dict(t) for t in tables]
    seen: set[str] = set()
    for topic in topics:
        if topic.slug in seen:
            raise TopicConfigError(f"{path}: slug {topic.slug!r} appears twice")
        seen.add(topic.slug)
    return topics


def dump_topics(topics: list[Topic]) -> str:
    """TOML text for ``topics`` that ``load_topics`` reads back to the same topics."""
    lines = ["# Beleidsradar watch topics (beleidsradar topics export)", ""]
    for topic in topics:
        data = topic.to_toml_dict()
        lines.append("[[topic]]")
        for key in ("slug", "title", "description", "query", "exclusions", "owner"):
            if key in data:
                lines.append(f"{key} = {_toml_string(data[key])}")
        if "active" in data:
            lines.append("active = false")
        if "variants" in data:
            inner = ", ".join(f"{k} = {_toml_string(v)}" for k, v in sorted(data["variants"].items()))
            lines.append(f"variants = {{ {inner} }}")
        if "examples" in data:
            for kind in ("match", "no_match"):
                items = ", ".join(_toml_string(s) for s in data["examples"][kind])
                lines.append(f"examples.{kind} = [{items}]")
        lines.append("")
    return "\n".join(lines)


def _toml_string(value: str) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t"))
    return f'"{escaped}"'
