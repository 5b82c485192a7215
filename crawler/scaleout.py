"""Scale-out: several crawler processes, on one machine or several, share one crawl of a source.

With ``WATCH_REDIS_URL`` set, a crawl of a shareable source runs through scrapy-redis: its
request queue and duplicate filter live in Redis, so any process that joins takes requests
from the queue and stores what it parses in the one PostgreSQL archive. The roles:

- The **coordinator** is the ordinary ``beleidsradar crawl`` (or ``run``): it claims the source
  (one crawl per source, storage/runs.py), opens the crawl run, announces the crawl in Redis,
  seeds the queue from the spider's ``start()``, works through the queue like everyone else,
  and alone owns the crawl account and the source's cursor. When the queue is empty and every
  member is idle it declares the crawl done, waits for the helpers' reports, adds their counts
  and failures to the one run, and advances the cursor only when every member finished
  cleanly (docs/decisions.md).
- A **helper** (``beleidsradar worker``, or any crawl with ``WATCH_SCALEOUT_ROLE=helper``, e.g.
  a Scrapyd job) joins the announced crawl, skips the spider's ``start()``, takes requests from
  the shared queue, stores items under the coordinator's run, and at the end reports its
  counts, failures and its spider's proposal for the cursor.

The ``ScaleOut`` add-on (enabled in crawler/settings.py) gives every crawl its role before
Scrapy freezes the settings, so ``beleidsradar crawl``, ``scrapy crawl`` and Scrapyd jobs all
behave the same.

Redis keys, all under ``WATCH_REDIS_PREFIX``::

    {prefix}:{source}:crawl                   hash: crawl_id, run_id, cursor, clock, state, …
    {prefix}:{source}:{crawl_id}:requests     scrapy-redis priority queue
    {prefix}:{source}:{crawl_id}:dupefilter   scrapy-redis request fingerprints
    {prefix}:{source}:{crawl_id}:members      hash: member → busy | idle | lost
    {prefix}:{source}:{crawl_id}:reports      hash: member → JSON report
    {prefix}:{source}:{crawl_id}:alive:{m}    expires unless member m keeps beating

A member is *busy* from before it takes a request until its engine is idle again, so "queue
empty and nobody busy" (checked atomically, in one Lua script) means no request is left
anywhere. Requests travel as JSON (``dumps``/``loads`` below), never pickle: whoever can write
to Redis must not be able to run code in the crawlers.

Only spiders in ``SHAREABLE`` can be shared: a spider whose callbacks depend on state that
another callback left in the same process (a count of outstanding requests, the set of open
queries) would miscount when its requests are spread over processes.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import uuid
import weakref
from datetime import datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy_redis.scheduler import Scheduler as RedisScheduler

logger = logging.getLogger(__name__)

#: Spiders whose crawl several processes can share, and why that is safe for each: all the
#: state a callback needs travels in the request (cb_kwargs/meta), and the spider's cursor
#: proposal is correct per process once the whole crawl ended without a failure.
SHAREABLE = {
    # One request chain per entity set; the newest ApiGewijzigdOp of an entity is on the last
    # page of its chain ($orderby), so whoever parsed that page proposes the right value.
    "tweedekamer": "per-entity page chains; cursor = newest ApiGewijzigdOp of a completed chain",
    # One request chain per query; the cursor is the newest dt.modified seen, max over members.
    "officielebekendmakingen": "per-query page chains; cursor = newest dt.modified seen",
}
#: Seconds without a heartbeat after which a member counts as gone.
ALIVE_SECONDS = 30
#: How often a member beats and looks at the shared queue while it waits.
TICK_SECONDS = 0.5
BEAT_EVERY = 10  # ticks

# Atomically: the caller is idle; if the queue is empty and no live member is busy, the crawl
# is done. Busy members whose heartbeat expired are marked lost (their requests may be gone).
_FINISH = """
redis.call('HSET', KEYS[2], ARGV[1], 'idle')
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local members = redis.call('HGETALL', KEYS[2])
for i = 1, #members, 2 do
  if members[i + 1] == 'busy' then
    if redis.call('EXISTS', ARGV[2] .. members[i]) == 1 then return 0 end
    redis.call('HSET', KEYS[2], members[i], 'lost')
  end
end
redis.call('HSET', KEYS[3], 'state', 'done')
return 1
"""
# Atomically: join the crawl only if it is still the announced one and still running.
_JOIN = """
if redis.call('HGET', KEYS[1], 'crawl_id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], 'busy')
redis.call('SET', ARGV[3], '1', 'EX', ARGV[4])
return 1
"""


class ScaleOutError(Exception):
    """Scale-out is misconfigured (no Redis, a SQLite archive, a spider that cannot share)."""


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)


def check_setup(redis_url: str | None, database_url: str) -> None:
    """Raise ScaleOutError unless Redis answers and the archive is PostgreSQL."""
    from storage.db import normalise_url

    if not redis_url:
        raise ScaleOutError("scale-out needs WATCH_REDIS_URL (BELEIDSRADAR_REDIS_URL)")
    if not normalise_url(database_url).startswith("postgresql"):
        raise ScaleOutError("scale-out needs a PostgreSQL archive (BELEIDSRADAR_DATABASE_URL): "
                            "processes on several machines cannot share a SQLite file")
    try:
        redis_client(redis_url).ping()
    except Exception as exc:  # noqa: BLE001 - any failure: Redis is not usable, said below
        raise ScaleOutError(f"Redis at {redis_url} does not answer: {exc}") from exc


def crawl_key(prefix: str, source: str) -> str:
    return f"{prefix}:{source}:crawl"


def crawl_settings(redis_url: str, prefix: str, source: str, *, role: str, crawl_id: str,
                   run: dict[str, Any] | None = None, member: str | None = None,
                   concurrency: int = 1) -> dict[str, Any]:
    """Scrapy settings that make a crawl one member of a shared crawl.

    A member takes only as many requests from the queue as it may download at once
    (``concurrency``: the per-host limit, as the shareable sources are one host each); the
    rest stay in the queue for the other members instead of waiting in this one's downloader.
    """
    base = f"{prefix}:{source}:{crawl_id}"
    return {
        "CONCURRENT_REQUESTS": concurrency,
        "SPIDER_MIDDLEWARES": {"crawler.scaleout.HelperStartMiddleware": 10},
        "SCHEDULER": "crawler.scaleout.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{base}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{base}:dupefilter",
        "SCHEDULER_SERIALIZER": "crawler.scaleout",
        # The queue outlives each member; the coordinator removes it when the crawl is over.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        "SHARED_CRAWL": {"role": role, "prefix": prefix, "source": source,
                         "crawl_id": crawl_id, "run": run or {}, "member": member},
    }


def coordinates(settings: Any, spider: str) -> bool:
    """Whether a crawl of ``spider`` with these settings coordinates a shared crawl: Redis is
    configured, the role is ``auto``, the spider is shareable and the crawl is live (a replay
    or a recording stays in one process: helpers elsewhere would not have the recording)."""
    return bool(settings.get("WATCH_REDIS_URL")) and spider in SHAREABLE \
        and settings.get("WATCH_SCALEOUT_ROLE", "auto") == "auto" \
        and not settings.get("WATCH_REPLAY_DIR") and not settings.get("WATCH_RECORD_DIR")


class ScaleOut:
    """Scrapy add-on: makes a crawl the coordinator or a helper of a shared crawl, per
    ``WATCH_REDIS_URL`` and ``WATCH_SCALEOUT_ROLE`` (auto | helper | off). Settings given
    explicitly in ``SHARED_CRAWL`` (``beleidsradar worker`` joins first) are left alone."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScaleOut:
        return cls(crawler)

    def update_settings(self, settings: Any) -> None:
        if settings.getdict("SHARED_CRAWL"):
            return
        spider = self.crawler.spidercls.name
        role = settings.get("WATCH_SCALEOUT_ROLE", "auto")
        redis_url = settings.get("WATCH_REDIS_URL")
        prefix = settings.get("WATCH_REDIS_PREFIX")
        concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        if role == "helper":
            if not redis_url or spider not in SHAREABLE:
                raise ScaleOutError(f"{spider} cannot help a shared crawl: needs WATCH_REDIS_URL "
                                    f"and one of {', '.join(sorted(SHAREABLE))}")
            redis = redis_client(redis_url)
            info = announced(redis, prefix, spider)
            member = new_member()
            if info is None or not join(redis, prefix, spider, info["crawl_id"], member):
                # Nothing to help: the crawl opens and closes at once (SharedCrawl).
                settings.set("SHARED_CRAWL", {"role": "helper", "source": spider,
                                              "prefix": prefix, "crawl_id": "none",
                                              "member": member, "nothing": True}, "cmdline")
                return
            if info.get("clock"):
                settings.set("WATCH_CLOCK", info["clock"], "cmdline")
            values = crawl_settings(redis_url, prefix, spider, role="helper",
                                    crawl_id=info["crawl_id"], run=info, member=member,
                                    concurrency=concurrency)
        elif role == "auto" and coordinates(settings, spider):
            values = crawl_settings(redis_url, prefix, spider, role="coordinator",
                                    crawl_id=new_crawl_id(), concurrency=concurrency)
        else:
            return
        # Over the project's own values (CONCURRENT_REQUESTS): a shared crawl needs these.
        settings["SPIDER_MIDDLEWARES"].update(values.pop("SPIDER_MIDDLEWARES"), "addon")
        for key, value in values.items():
            settings.set(key, value, "cmdline")


def new_crawl_id() -> str:
    return uuid.uuid4().hex[:12]


def new_member() -> str:
    """A member's name: where it runs, and a random part (one process may help twice)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def join(redis: Any, prefix: str, source: str, crawl_id: str, member: str) -> bool:
    """Register ``member`` as busy in the crawl, if it is still the announced, running one."""
    base = f"{prefix}:{source}:{crawl_id}"
    script = redis.register_script(_JOIN)
    return bool(script(keys=[crawl_key(prefix, source), f"{base}:members"],
                       args=[crawl_id, member, f"{base}:alive:{member}", ALIVE_SECONDS]))


def announced(redis: Any, prefix: str, source: str) -> dict[str, Any] | None:
    """The crawl of ``source`` open for helpers now, or None."""
    raw = redis.hgetall(crawl_key(prefix, source))
    if not raw:
        return None
    info = {k.decode(): v.decode() for k, v in raw.items()}
    if info.get("state") != "running":
        return None
    info["cursor"] = json.loads(info.get("cursor") or "{}")
    info["run_id"] = int(info["run_id"])
    return info


# --- the request serializer (SCHEDULER_SERIALIZER = "crawler.scaleout") -------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} through the shared queue: {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b"}:
            return base64.b64decode(value["$b"])
        if set(value) == {"$d"}:
            return {_decode(k): _decode(v) for k, v in value["$d"]}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(request: dict[str, Any]) -> bytes:
    """A request dict (``Request.to_dict``) as JSON; bytes and non-string keys tagged."""
    return json.dumps(_encode(request), separators=(",", ":")).encode()


def loads(data: bytes) -> dict[str, Any]:
    return _decode(json.loads(data))  # type: ignore[no-any-return]


# --- the member's side ------------------------------------------------------------------------


class SharedCrawl:
    """This process's membership of a shared crawl: heartbeat, busy/idle, done, reports."""

    _by_crawler: weakref.WeakKeyDictionary[Crawler, SharedCrawl] = weakref.WeakKeyDictionary()

    def __init__(self, crawler: Crawler, spec: dict[str, Any]):
        self.crawler = crawler
        self.role: str = spec["role"]
        self.source: str = spec["source"]
        self.crawl_id: str = spec["crawl_id"]
        self.run: dict[str, Any] = dict(spec.get("run") or {})
        self.redis = redis_client(crawler.settings.get("REDIS_URL")
                                  or crawler.settings.get("WATCH_REDIS_URL"))
        base = f"{spec['prefix']}:{self.source}:{self.crawl_id}"
        self.crawl_key = crawl_key(spec["prefix"], self.source)
        self.queue_key = f"{base}:requests"
        self.members_key = f"{base}:members"
        self.reports_key = f"{base}:reports"
        self.alive_prefix = f"{base}:alive:"
        self.prefix = spec["prefix"]
        #: A helper that found no crawl to join: it closes at once.
        self.nothing = bool(spec.get("nothing"))
        self.member: str = spec.get("member") or new_member()
        self.busy = True  # from joining until the engine first goes idle
        self.done = False
        self._ticks = 0
        self._loop: Any = None
        self._finish = self.redis.register_script(_FINISH)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def of(cls, crawler: Crawler) -> SharedCrawl | None:
        """The crawler's membership (None when the crawl is not shared); one per crawler."""
        spec = crawler.settings.getdict("SHARED_CRAWL")
        if not spec:
            return None
        if crawler not in cls._by_crawler:
            cls._by_crawler[crawler] = cls(crawler, spec)
        return cls._by_crawler[crawler]

    @property
    def coordinator(self) -> bool:
        return self.role == "coordinator"

    # --- coordinator: announce, finish, collect, clean up ----------------------------------

    def announce(self, *, run_id: int, cursor: dict[str, Any], clock: str | None) -> None:
        """Open the crawl for helpers (the run exists, the cursor is the run's start)."""
        # Whatever an earlier coordinator of this source left (it died: storage/runs.py let
        # us claim the source) is stale now.
        stale = [k for k in self.redis.scan_iter(match=f"{self.prefix}:{self.source}:*")
                 if not k.decode().startswith(f"{self.prefix}:{self.source}:{self.crawl_id}:")]
        if stale:
            self.redis.delete(*stale)
        self.redis.hset(self.members_key, self.member, "busy")
        self._beat()
        self.redis.hset(self.crawl_key, mapping={
            "crawl_id": self.crawl_id, "run_id": run_id, "state": "running",
            "cursor": json.dumps(cursor), "clock": clock or "",
            "coordinator": self.member, "started_at": datetime.now().astimezone().isoformat(),
        })
        self.run = {"run_id": run_id, "coordinator": self.member}
        logger.info("shared_crawl.announced source=%s crawl=%s run=%s", self.source,
                    self.crawl_id, run_id)

    def _try_finish(self) -> bool:
        return bool(self._finish(keys=[self.queue_key, self.members_key, self.crawl_key],
                                 args=[self.member, self.alive_prefix]))

    def _missing_reports(self) -> list[str]:
        """Idle helpers whose report has not come yet and that are still alive."""
        members = {k.decode(): v.decode() for k, v in self.redis.hgetall(self.members_key).items()}
        reported = {k.decode() for k in self.redis.hkeys(self.reports_key)}
        waiting = []
        for member, state in members.items():
            if member == self.member or state != "idle" or member in reported:
                continue
            if self.redis.exists(self.alive_prefix + member):
                waiting.append(member)
            else:
                self.redis.hset(self.members_key, member, "lost")
        return waiting

    def collect(self) -> tuple[list[dict[str, Any]], list[str], int]:
        """The helpers' reports, the members lost on the way, and requests left in the queue."""
        reports = [json.loads(v) for v in self.redis.hvals(self.reports_key)]
        members = {k.decode(): v.decode() for k, v in self.redis.hgetall(self.members_key).items()}
        lost = sorted(m for m, state in members.items()
                      if m != self.member and (state in ("lost", "busy")
                                               or (state == "idle" and not any(
                                                   r["member"] == m for r in reports))))
        return reports, lost, int(self.redis.zcard(self.queue_key))

    def cleanup(self) -> None:
        keys = list(self.redis.scan_iter(match=f"{self.prefix}:{self.source}:{self.crawl_id}:*"))
        if self.redis.hget(self.crawl_key, "crawl_id") == self.crawl_id.encode():
            keys.append(self.crawl_key)
        if keys:
            self.redis.delete(*keys)

    # --- helper: report ----------------------------------------------------------------------

    def report(self, report: dict[str, Any]) -> None:
        self.redis.hset(self.reports_key, self.member, json.dumps({**report,
                                                                   "member": self.member}))

    # --- both: busy/idle, heartbeat -----------------------------------------------------------

    def mark_busy(self) -> None:
        """Called before taking a request from the queue (SharedScheduler)."""
        if not self.busy:
            self.redis.hset(self.members_key, self.member, "busy")
            self.busy = True

    def _beat(self) -> None:
        self.redis.set(self.alive_prefix + self.member, "1", ex=ALIVE_SECONDS)

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % BEAT_EVERY == 0:
            self._beat()
        # Scrapy looks at its scheduler again only every 5 s when it has nothing in flight;
        # others may have queued requests for us since: look now.
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        if self.nothing:
            return
        if not self.coordinator:
            self._beat()
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(TICK_SECONDS, now=False)

    def spider_idle(self, spider: Any) -> None:
        """Keep the crawl open until the shared crawl is over (coordinator: until the helpers
        have reported too)."""
        self.busy = False
        if self.nothing:
            raise CloseSpider("no_shared_crawl")
        if self.coordinator:
            if not self.done:
                self.done = self._try_finish()
                if not self.done:
                    raise DontCloseSpider
            if self._missing_reports():
                raise DontCloseSpider
            return
        self.redis.hset(self.members_key, self.member, "idle")
        state = self.redis.hget(self.crawl_key, "state")
        crawl = self.redis.hget(self.crawl_key, "crawl_id")
        if crawl != self.crawl_id.encode() or state != b"running":
            return  # done (or replaced by a newer crawl): close
        coordinator = self.redis.hget(self.crawl_key, "coordinator")
        if coordinator and not self.redis.exists(self.alive_prefix + coordinator.decode()):
            raise CloseSpider("coordinator_gone")
        raise DontCloseSpider

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()


class SharedScheduler(RedisScheduler):
    """scrapy-redis's scheduler, which marks this member busy before it takes a request."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.shared = SharedCrawl.of(crawler)
        return scheduler  # type: ignore[no-any-return]

    def next_request(self) -> Any:
        shared: SharedCrawl | None = self.shared
        if shared is not None and not shared.busy:
            if not len(self.queue):
                return None
            shared.mark_busy()
        return super().next_request()


class HelperStartMiddleware:
    """Spider middleware: a helper does not run the spider's ``start()``; the coordinator
    seeded the shared queue with it already."""

    def __init__(self, helper: bool):
        self.helper = helper

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HelperStartMiddleware:
        spec = crawler.settings.getdict("SHARED_CRAWL")
        return cls(bool(spec) and spec.get("role") == "helper")

    async def process_start(self, start: Any) -> Any:
        if self.helper:
            return
        async for item_or_request in start:
            yield item_or_request


# --- the account ------------------------------------------------------------------------------


def _when(value: Any) -> Any:
    try:
        return (0, datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return (1, str(value))


def merge_cursors(base: dict[str, Any], proposals: list[dict[str, Any]]) -> dict[str, Any]:
    """Per key, the newest value any member proposed (timestamps compared as times)."""
    merged = dict(base)
    for proposal in proposals:
        for key, value in proposal.items():
            if key not in merged:
                merged[key] = value
                continue
            try:
                newer = _when(value) > _when(merged[key])
            except TypeError:  # a time against a non-time: keep what we have
                newer = False
            if newer:
                merged[key] = value
    return merged
