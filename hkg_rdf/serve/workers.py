"""Worker processes: every piece of store work runs in one, so that it can be stopped.

pyoxigraph cannot interrupt a running query, so a query is run in a worker process (spawned,
each with its own read-only handle on the store's live version, sandboxed by
:mod:`hkg_rdf.serve.sandbox`) and a query that outlives its timeout, or whose client has gone,
is ended by killing that process; a spare worker takes its place at once while the others keep
serving. :class:`Pool` shares the workers between cheap jobs and long queries without letting
the long ones take them all (lanes, promotion, waiting lines: see its docstring). In the worker
a query is checked (:func:`hkg_rdf.serve.policy.check_operation`) before any store sees it,
and jobs run on a thread with a large stack, since Oxigraph's parser recurses.

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
import threading
import time
from collections import Counter, deque
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
    """The job failed in the worker: ``kind`` is 'refused' (with the HTTP ``status``), 'syntax', 'input', 'busy', 'storage', 'memory' or 'error'."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


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
    from ..stats import void_statistics
    from . import pages, sparql, void

    return {
        "query": lambda handle, **kw: sparql.run_query(handle.get(), **kw, strict=handle.remote is not None),
        "update": lambda handle, **kw: sparql.run_update(handle.store_dir, **kw),
        "entity_page": lambda handle, **kw: pages.entity_page(handle.get(), **kw),
        "entity_document": lambda handle, **kw: pages.entity_document(handle.get(), **kw),
        "info": lambda handle, **kw: void.store_info(handle.get(), handle.version, **kw),
        "statistics": lambda handle, **kw: void_statistics(handle.get(), handle.path, **kw),
        "dump": lambda handle, **kw: void.make_dump(handle.get(), **kw),
    }[name]


#: Stack of the thread that runs a worker's jobs: Oxigraph's parser and optimiser recurse per
#: nesting level, and policy.check_shape keeps queries well inside what this stack takes.
JOB_STACK_MB = 128


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
    handle = StoreHandle(Path(store_dir), remote)
    conn.send(("ready", sandboxed))
    # the stack counts against RLIMIT_DATA: at most a quarter of the worker's memory
    threading.stack_size(min(JOB_STACK_MB, memory_mb // 4 or JOB_STACK_MB) * 1024 * 1024)
    runner = threading.Thread(target=_answer_jobs, args=(conn, handle), name="jobs")
    runner.start()
    runner.join()


def _answer_jobs(conn: Connection, handle: StoreHandle) -> None:
    from ..errors import InputError, StoreWriteError
    from .policy import ProtocolError

    while True:
        try:
            name, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", _job(name)(handle, **kwargs))
        except ProtocolError as error:
            reply = ("refused", (error.status, error.message))
        except SyntaxError as error:
            reply = ("syntax", str(error))
        except StoreWriteError as error:  # an update the file system refused: the live version is untouched
            reply = ("storage", str(error))
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
        self.nice = pool.nice

    def wait_ready(self, timeout: float) -> bool:
        """Block until the worker reports ready; returns whether it runs sandboxed."""
        if not self.conn.poll(timeout):
            raise WorkerDied("a worker did not start in time")
        tag, sandboxed = self.conn.recv()
        return bool(sandboxed)

    def renice(self, nice: int) -> bool:
        """Set the nice value of all the process's threads (Linux: it is per thread); False if not allowed."""
        try:
            threads = [int(t) for t in os.listdir(f"/proc/{self.process.pid}/task")]
        except OSError:
            threads = [self.process.pid]
        try:
            for thread in threads:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
        except OSError:  # lowering it needs privileges; a thread may have ended
            return False
        self.nice = nice
        return True

    def kill(self) -> int | None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()
        return self.process.exitcode


#: The lanes of jobs, in the order a freed worker serves their waiting lines: cheap jobs (pages,
#: documents), queries not known to be long yet, long (heavy) queries.
LANES = ("cheap", "query", "heavy")


class Pool:
    """Worker processes shared by cheap and heavy jobs, so that heavy ones never take them all.

    ``size`` workers may run heavy jobs at once; ``reserved`` more are kept for cheap ones
    (entity pages, documents, queries in their first seconds). A job starts in the lane it is
    given. A cheap job still running after ``promote_after`` seconds becomes heavy, if a heavy
    place is free (its worker is reniced so that cheap work keeps the CPU first), else it is
    stopped (:class:`Overloaded`). At most ``cheap_at_once`` cheap jobs run at once (default: one
    per CPU): they are short and CPU-bound, and four page jobs on two CPUs took a third more CPU
    each (caches) for no more pages per second. A freed worker goes to a waiting cheap job
    first. Each lane has a waiting line of at most ``max_queue`` jobs; past it, or after waiting
    too long, a job is refused with :class:`Overloaded` (503). ``spare`` workers are kept started, so that a
    killed worker is replaced at once (starting one takes a second or more of CPU).
    """

    def __init__(self, name: str, store_dir: Path, size: int, max_queue: int, sandbox: bool = True, memory_mb: int = 0, nice: int = 0,
                 remote: dict | None = None, reserved: int = 0, heavy_nice: int = 10, spare: int = 0, cheap_at_once: int | None = None):
        self.name, self.store_dir, self.size, self.max_queue = name, store_dir, max(1, size), max(0, max_queue)
        self.reserved, self.heavy_nice, self.spare = max(0, reserved), min(19, nice + heavy_nice), max(0, spare)
        self.remote = remote
        self.sandbox, self.memory_mb, self.nice = sandbox, memory_mb, nice
        self.sandboxed = False
        self._context = multiprocessing.get_context("spawn")
        total = self.size + self.reserved
        self._threads = ThreadPoolExecutor(max_workers=2 * total + 2, thread_name_prefix=f"hkg-{name}")
        self._idle: list[_Worker] = []
        self._spares: list[_Worker] = []  # started and ready, to replace a killed worker at once
        self._waiting: dict[str, deque[asyncio.Future]] = {lane: deque() for lane in LANES}
        self._all: set[_Worker] = set()
        self.running: Counter[str] = Counter()  # jobs running, by lane
        self.limits = {"heavy": self.size, "cheap": max(1, cheap_at_once or os.cpu_count() or 1)}  # lanes with a bound
        self._started = 0
        self._closed = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def heavy(self) -> int:
        """Workers running a heavy job."""
        return self.running["heavy"]

    def _has_place(self, lane: str) -> bool:
        limit = self.limits.get(lane)
        return limit is None or self.running[lane] < limit

    @property
    def busy(self) -> int:
        return len(self._all) - len(self._idle)

    @property
    def workers(self) -> int:
        return len(self._all)

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn() for _ in range(self.size + self.reserved)), *(self._spawn(spare=True) for _ in range(self.spare)))

    async def _spawn(self, spare: bool = False) -> None:
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
            if spare:
                self._spares.append(worker)
            else:
                self._all.add(worker)
                self._release(worker)
            return

    def _replace(self, worker: _Worker) -> int | None:
        """Kill a worker (it may be deep in a query); a spare takes its place, another is started."""
        self._all.discard(worker)
        exitcode = worker.kill()
        if not self._closed:
            had_spare = bool(self._spares)
            if had_spare:  # in its place at once; a new spare is started
                spare = self._spares.pop()
                self._all.add(spare)
                self._release(spare)
            task = asyncio.get_running_loop().create_task(self._spawn(spare=had_spare))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return exitcode

    # ------------------------------------------------------------ handing out workers

    def _release(self, worker: _Worker) -> None:
        if worker.nice != self.nice and not worker.renice(self.nice):
            self._replace(worker)  # cannot be made cheap again: a fresh one takes its place
            return
        self._idle.append(worker)
        self._hand_out()

    def _hand_out(self) -> None:
        """Give idle workers to waiting jobs in the order of LANES, each lane's only while it has a place."""
        while self._idle:
            for lane in LANES:
                line = self._waiting[lane]
                while line and line[0].done():  # given up waiting
                    line.popleft()
                if line and self._has_place(lane):
                    self.running[lane] += 1
                    line.popleft().set_result(self._idle.pop())
                    break
            else:
                return

    async def _acquire(self, lane: str, wait: float) -> _Worker:
        line = self._waiting[lane]
        if self._idle and not line and self._has_place(lane):
            self.running[lane] += 1
            return self._idle.pop()
        if len(line) >= self.max_queue:
            raise Overloaded(f"all workers for {lane} jobs are busy and {len(line)} such requests are waiting")
        ticket = asyncio.get_running_loop().create_future()
        line.append(ticket)
        try:
            await asyncio.wait({ticket}, timeout=wait)
        finally:
            if not ticket.done():
                ticket.cancel()
            elif not ticket.cancelled() and asyncio.current_task().cancelling():  # handed a worker as we were cancelled
                self._give_back(ticket.result(), lane)
        if ticket.cancelled():
            raise Overloaded(f"no worker became free within {wait:g} s")
        return ticket.result()

    def _give_back(self, worker: _Worker, lane: str) -> None:
        self.running[lane] -= 1
        self._release(worker)

    # ------------------------------------------------------------ running a job

    async def run(self, job: str, timeout: float, queue_timeout: float | None = None, lane: str = "cheap", promote_after: float | None = None,
                  on_long=None, **kwargs):
        """Run a job on a worker within ``timeout`` seconds; its return value, or an exception.

        ``lane``: one of LANES; a job not heavy running past ``promote_after`` seconds turns
        heavy, or is stopped if no heavy place is free (either way ``on_long()`` is called).
        """
        worker = await self._acquire(lane, queue_timeout if queue_timeout is not None else timeout)
        healthy = False
        if lane == "heavy":
            worker.renice(self.heavy_nice)
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            worker.conn.send((job, kwargs))
            reply = loop.run_in_executor(self._threads, worker.conn.recv)
            if lane != "heavy" and promote_after is not None and promote_after < timeout:
                done, _ = await asyncio.wait({reply}, timeout=promote_after)
                if not done:
                    if on_long:
                        on_long()
                    if not self._has_place("heavy"):
                        log.warning("%s job stopped after %.1f s: all %d places for long jobs are taken", job, time.monotonic() - started, self.size)
                        raise Overloaded(f"the query ran longer than {promote_after:g} s and all {self.size} places for long queries are taken")
                    self.running[lane] -= 1
                    self.running["heavy"] += 1
                    lane = "heavy"
                    worker.renice(self.heavy_nice)
                    self._hand_out()  # its place in its old lane is free
            done, _ = await asyncio.wait({reply}, timeout=max(0.0, timeout - (time.monotonic() - started)))
            if not done:
                log.warning("%s job stopped after %.1f s (timeout %g s); worker replaced", job, time.monotonic() - started, timeout)
                raise QueryTimeout(f"stopped after {timeout:g} s")
            try:
                tag, value = reply.result()
            except (EOFError, OSError) as error:
                exitcode = self._replace(worker)
                worker = None
                raise WorkerDied(f"the worker ended during the job (exit code {exitcode}): {type(error).__name__}") from None
            healthy = True
        finally:  # on timeout, cancellation (client gone, shutdown) or a dead worker: kill and replace it
            self.running[lane] -= 1
            if worker is not None:
                if healthy:
                    self._release(worker)
                else:
                    self._replace(worker)
            self._hand_out()
        if tag == "ok":
            return value
        if tag == "refused":
            raise JobError(tag, value[1], value[0])
        raise JobError(tag, value)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.kill) for w in [*self._all, *self._spares]), return_exceptions=True)
        self._all.clear()
        self._spares.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)
