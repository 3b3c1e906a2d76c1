"""SQLite response cache (WAL): every model or judge response is committed as it arrives.

Keys are SHA-256 hashes of canonical JSON (`cache_key`), built from the model identity,
generation parameters and messages (never base URLs or API keys). Several processes may
share one file: SQLite's locking serialises writers and WAL lets readers run alongside.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trustbench.core.errors import TrustbenchError


def default_cache_dir() -> Path:
    """TRUSTBENCH_HOME, else ~/.cache/trustbench: the cache, rates, data and model copies."""
    return Path(os.environ.get("TRUSTBENCH_HOME", Path.home() / ".cache" / "trustbench"))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL
)
"""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # json.dumps builds one per call


def cache_key(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of `parts` (sorted keys, no whitespace)."""
    return hashlib.sha256(_CANONICAL.encode(parts).encode("utf-8")).hexdigest()


def key_prefix(*parts: Any) -> Callable[[Any], str]:
    """`last -> cache_key(*parts, last)`, the leading parts encoded once: a plan's thousands of
    keys share their model identity and generation parameters."""
    head = _CANONICAL.encode(parts)[:-1] + ("," if parts else "")
    return lambda last: hashlib.sha256((head + _CANONICAL.encode(last) + "]").encode("utf-8")).hexdigest()


class Cache:
    """A key -> JSON-object store. Thread-safe; one connection per instance."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            self._setup()
        except (sqlite3.DatabaseError, OSError) as e:
            raise TrustbenchError(f"cache {self.path}: cannot open ({e})") from None
        self._lock = threading.Lock()
        self.hits = 0
        self.writes = 0

    def _setup(self, deadline: float = 60.0) -> None:
        """Switch to WAL and create the table. Switching journal mode takes an exclusive lock
        and SQLite does not call the busy handler for it, so a process that opens the file while
        another one sets it up gets "database is locked" at once: retry until `deadline` s."""
        start = time.monotonic()
        delay = 0.01
        while True:
            try:
                self._db.execute("PRAGMA busy_timeout=60000")
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() - start > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self.hits += 1
        return json.loads(row[0])

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Batch lookup (chunks of 500) for fast resume; does not count hits."""
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT key, value FROM responses WHERE key IN ({','.join('?' * len(chunk))})"
                for k, v in self._db.execute(q, chunk):
                    out[k] = json.loads(v)
        return out

    def put(self, key: str, value: dict[str, Any], kind: str = "model") -> None:
        """Insert and commit at once, so a kill -9 right after loses nothing."""
        self.put_many([(key, value)], kind)

    def put_many(self, rows: list[tuple[str, dict[str, Any]]], kind: str = "model") -> None:
        """Insert (key, value) rows in one transaction: one commit for a judge's batch of answers."""
        if not rows:
            return
        now = time.time()
        data = [(k, kind, json.dumps(v, ensure_ascii=False), now) for k, v in rows]
        with self._lock:
            try:
                with self._db:  # one transaction (the connection is otherwise in autocommit)
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        "INSERT OR REPLACE INTO responses (key, kind, value, created) VALUES (?, ?, ?, ?)", data)
            except sqlite3.OperationalError as e:
                raise TrustbenchError(f"cache {self.path}: write failed ({e})") from None
            self.writes += len(data)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def integrity_check(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class GroupWriter:
    """Commits rows from the event loop in one writer thread, a group at a time: a row waits
    only for its own group's commit, and rows that arrive while a commit runs form the next group.
    The loop never waits on the disk, and a run of 2,000 responses takes tens of transactions and
    loop wake-ups instead of one each. `close` commits what is still pending (also on Ctrl-C)."""

    def __init__(self, cache: Cache, kind: str = "model"):
        self.cache = cache
        self.kind = kind
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="trustbench-cache")
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future[None]]] = []
        self._busy = False

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Return once the row is committed; raises what the commit of its group raised."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, value, fut))
        if not self._busy:
            self._commit_pending()
        await fut  # a cancelled caller's row is still committed with its group

    def _commit_pending(self) -> None:
        group, self._pending = self._pending, []
        self._busy = True
        done = asyncio.wrap_future(self._pool.submit(self.cache.put_many, [(k, v) for k, v, _ in group], self.kind))
        done.add_done_callback(lambda f: self._settle(f, group))

    def _settle(self, done: asyncio.Future[None], group: list[tuple[str, dict[str, Any], asyncio.Future[None]]]) -> None:
        self._busy = False
        error = done.exception()
        for _, _, fut in group:
            if not fut.done():
                fut.set_exception(error) if error is not None else fut.set_result(None)
        if self._pending:
            self._commit_pending()

    def close(self) -> None:
        """Commit the rows not sent yet and wait for every commit."""
        if self._pending:
            group, self._pending = self._pending, []
            self._pool.submit(self.cache.put_many, [(k, v) for k, v, _ in group], self.kind)
        self._pool.shutdown(wait=True)
