"""Worker processes: every piece of store work runs in one, so that it can be stopped.

pyoxigraph cannot interrupt a running query, so a query is run in a worker process (spawned,
each with its own read-only handle on the store's live version, sandboxed by
:mod:`hkg_rdf.serve.sandbox`) and a query that outlives its timeout is ended by killing that
process; a fresh worker takes its place while the other workers keep serving. The pool bounds
both the workers and the requests waiting for one: past ``max_queue`` waiting requests, or
after waiting ``timeout`` seconds, a request is refused with :class:`Overloaded` (503).

A worker reopens the store when its ``current`` version changes (after a load or an update),
so the server always answers from the live version.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

log = logging.getLogger("hkg_rdf.serve")


class Overloaded(Exception):
    """Every worker is busy and the waiting line is full (or too slow): answer 503."""


class QueryTimeout(Exception):
    """The job ran past its timeout; its worker was killed."""


class WorkerDied(Exception):
    """The worker ended while running the job (e.g. it hit its memory limit)."""


class JobError(Exception):
    """The job failed in the worker: ``kind`` is 'syntax', 'input', 'busy' or 'error'."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


# ---------------------------------------------------------------- inside a worker


class StoreHandle:
    """The worker's read-only handle on the store's live version, reopened when it changes."""

    def __init__(self, store_dir: Path, remote: dict | None = None):
        self.store_dir = store_dir
        self.remote = remote  # with ``serve --sparql``: RemoteStore arguments, no store directory
        self.path: Path | None = None
        self._store = None

    def get(self):
        import pyoxigraph as ox

        from ..store import live_path

        if self.remote is not None:
            if self._store is None:
                from ..sparql_store import RemoteStore, parse_auth

                r = self.remote
                self._store = RemoteStore(r["sparql"], r["graph"], parse_auth(r.get("auth"), r.get("token")), timeout=r["timeout"], retries=0)
            return self._store

        for _ in range(10):
            path = live_path(self.store_dir)
            if path == self.path:
                return self._store
            self._store, self.path = None, None  # a failed open must not leave the old path cached with no store
            try:
                self._store = ox.Store.read_only(str(path))
                self.path = path
                return self._store
            except (OSError, RuntimeError):
                if live_path(self.store_dir) == path:  # not a concurrent version swap
                    raise
        raise RuntimeError("the store's live version kept changing")

    @property
    def version(self) -> str:
        if self.remote is not None:
            return self.remote["version"]
        return self.path.name if self.path else ""


def _job(name: str):
    from . import pages, sparql, void

    return {
        "query": lambda handle, **kw: sparql.run_query(handle.get(), **kw),
        "update": lambda handle, **kw: sparql.run_update(handle.store_dir, **kw),
        "describe": lambda handle, **kw: pages.describe(handle.get(), **kw),
        "entity_document": lambda handle, **kw: pages.entity_document(handle.get(), **kw),
        "info": lambda handle, **kw: void.store_info(handle.get(), handle.version, **kw),
        "statistics": lambda handle, **kw: void.statistics(handle.get(), **kw),
        "dump": lambda handle, **kw: void.make_dump(handle.get(), **kw),
    }[name]


def worker_main(conn: Connection, store_dir: str, sandbox: bool, memory_mb: int, nice: int, remote: dict | None = None) -> None:
    """A worker's life: limit itself, then answer jobs from the pipe until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which ends its workers
    if nice:
        os.nice(nice)
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    sandboxed = False
    if sandbox:
        from .sandbox import forbid_network

        sandboxed = forbid_network()
    from ..errors import InputError

    handle = StoreHandle(Path(store_dir), remote)
    conn.send(("ready", sandboxed))
    while True:
        try:
            name, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", _job(name)(handle, **kwargs))
        except SyntaxError as error:
            reply = ("syntax", str(error))
        except InputError as error:
            reply = ("busy" if "another load" in error.message else "input", str(error))
        except MemoryError:
            reply = ("memory", "the job needed more memory than a worker may use")
        except Exception as error:  # reported to the client as a 500, the worker lives on
            reply = ("error", f"{type(error).__name__}: {error}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


# ---------------------------------------------------------------- the server's side


class _Worker:
    def __init__(self, context, pool: "Pool", number: int):
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(child, str(pool.store_dir), pool.sandbox, pool.memory_mb, pool.nice, pool.remote),
            name=f"hkg-{pool.name}-{number}", daemon=True,
        )
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float) -> bool:
        """Block until the worker reports ready; returns whether it runs sandboxed."""
        if not self.conn.poll(timeout):
            raise WorkerDied("a worker did not start in time")
        tag, sandboxed = self.conn.recv()
        return bool(sandboxed)

    def kill(self) -> int | None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()
        return self.process.exitcode


class Pool:
    """A bounded set of worker processes with a bounded waiting line."""

    def __init__(self, name: str, store_dir: Path, size: int, max_queue: int, sandbox: bool = True, memory_mb: int = 0, nice: int = 0,
                 remote: dict | None = None):
        self.name, self.store_dir, self.size, self.max_queue = name, store_dir, max(1, size), max(0, max_queue)
        self.remote = remote
        self.sandbox, self.memory_mb, self.nice = sandbox, memory_mb, nice
        self.sandboxed = False
        self._context = multiprocessing.get_context("spawn")
        self._threads = ThreadPoolExecutor(max_workers=2 * self.size + 2, thread_name_prefix=f"hkg-{name}")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._waiting = 0
        self._started = 0
        self._closed = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def busy(self) -> int:
        return len(self._all) - self._idle.qsize()

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            self._started += 1
            worker = _Worker(self._context, self, self._started)
            try:
                self.sandboxed = await loop.run_in_executor(self._threads, worker.wait_ready, 60.0)
            except (WorkerDied, EOFError, OSError) as error:
                await loop.run_in_executor(self._threads, worker.kill)
                log.error("%s worker failed to start (%s); retrying", self.name, error)
                await asyncio.sleep(1)
                continue
            if self._closed:
                await loop.run_in_executor(self._threads, worker.kill)
                return
            self._all.add(worker)
            self._idle.put_nowait(worker)
            return

    def _replace(self, worker: _Worker) -> int | None:
        """Kill a worker (it may be deep in a query) and start another in its place."""
        self._all.discard(worker)
        exitcode = worker.kill()
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._spawn())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return exitcode

    async def run(self, job: str, timeout: float, queue_timeout: float | None = None, **kwargs):
        """Run a job on a worker within ``timeout`` seconds; its return value, or an exception."""
        if self._waiting >= self.max_queue and self._idle.empty():
            raise Overloaded(f"all {self.size} workers are busy and {self._waiting} requests are waiting")
        self._waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), queue_timeout if queue_timeout is not None else timeout)
        except asyncio.TimeoutError:
            raise Overloaded(f"no worker became free within {queue_timeout if queue_timeout is not None else timeout:g} s") from None
        finally:
            self._waiting -= 1
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            worker.conn.send((job, kwargs))
            reply = await asyncio.wait_for(loop.run_in_executor(self._threads, worker.conn.recv), timeout)
        except asyncio.TimeoutError:
            self._replace(worker)
            log.warning("%s job stopped after %.1f s (timeout %g s); worker replaced", job, time.monotonic() - started, timeout)
            raise QueryTimeout(f"stopped after {timeout:g} s") from None
        except (EOFError, OSError, BrokenPipeError) as error:
            exitcode = self._replace(worker)
            raise WorkerDied(f"the worker ended during the job (exit code {exitcode}): {type(error).__name__}") from None
        except BaseException:  # cancelled (client gone, shutdown): the worker may still be busy
            self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        tag, value = reply
        if tag == "ok":
            return value
        raise JobError(tag, value)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.kill) for w in list(self._all)), return_exceptions=True)
        self._all.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)
