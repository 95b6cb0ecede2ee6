"""Fair use of the server by clients it does not know: per-client limits, dropped clients, slow clients.

- :class:`ClientLimits`: at most ``max_queries`` queries per client address at once (429 with
  Retry-After beyond), and the memory of which clients sent long queries lately: their next
  queries go straight to the long-query lane (see :class:`hkg_rdf.serve.workers.Pool`), so that
  they do not hold the workers kept for cheap requests while they find out.
- :func:`unless_client_leaves`: a job whose client has disconnected is cancelled, which kills
  and replaces its worker, instead of running on to the timeout for nobody.
- :class:`BodyResponse`: a body sent in chunks, each one only when the connection has taken
  the last (uvicorn's flow control), so a connection buffers at most one chunk beyond the
  socket's own buffer; a client that stops reading is dropped after ``send_timeout`` seconds
  (and one reading slower than ``MIN_RATE`` bytes/s when the time its body needs is up).
- :func:`protocol`: uvicorn's HTTP/1.1 protocol with a deadline for a request's headers (uvicorn
  has none: a client sending a header line every few seconds would hold its connection forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import h11
from starlette.requests import Request
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from .policy import ProtocolError

#: A client sending long queries has its queries run in the long-query lane this long after.
REMEMBER_LONG_QUERIES = 60.0
#: Bytes of a response body sent at a time.
CHUNK = 64 * 1024
#: Slowest reading (bytes/s) a client is given time for, beyond ``send_timeout``.
MIN_RATE = 100_000


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


class ClientLimits:
    """Concurrent queries per client address, and which addresses sent long queries lately."""

    def __init__(self, max_queries: int):
        self.max_queries = max_queries
        self.active: Counter[str] = Counter()
        self.long_until: dict[str, float] = {}

    @contextlib.contextmanager
    def query(self, client: str):
        """Count a query of ``client`` while it runs; yields its lane ('query', or 'heavy' for a client sending long queries)."""
        if self.max_queries and self.active[client] >= self.max_queries:
            raise ProtocolError(429, f"this client already has {self.active[client]} queries running here, the most one client may have at once; "
                                     "wait for them to finish", {"Retry-After": "2"})
        self.active[client] += 1
        try:
            yield "heavy" if self.long_until.get(client, 0.0) > time.monotonic() else "query"
        finally:
            self.active[client] -= 1
            if not self.active[client]:
                del self.active[client]

    def long_query(self, client: str) -> None:
        now = time.monotonic()
        if len(self.long_until) > 10_000:
            self.long_until = {c: t for c, t in self.long_until.items() if t > now}
        self.long_until[client] = now + REMEMBER_LONG_QUERIES


def client_of(request: Request) -> str:
    """The client's address (the proxy's forwarded one only with --proxy-headers: uvicorn decides)."""
    return request.client.host if request.client else "-"


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_client_leaves(request: Request, job):
    """Await ``job``; cancel it (ClientGone) if the client disconnects first. The request body must have been read."""
    task = asyncio.ensure_future(job)
    watcher = asyncio.ensure_future(_disconnected(request.receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if task.cancelled():
        raise ClientGone()
    return task.result()


class BodyResponse(Response):
    """A response whose body is sent in chunks, each within ``send_timeout`` seconds."""

    def __init__(self, content: bytes, send_timeout: float, **kwargs):
        super().__init__(content, **kwargs)
        self.send_timeout = send_timeout

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = b"" if scope.get("method") == "HEAD" else self.body
        deadline = time.monotonic() + self.send_timeout + len(body) / MIN_RATE
        view = memoryview(body)
        for start in range(0, max(1, len(body)), CHUNK):
            message = {"type": "http.response.body", "body": bytes(view[start:start + CHUNK]), "more_body": start + CHUNK < len(body)}
            remaining = min(self.send_timeout, deadline - time.monotonic())
            try:
                await asyncio.wait_for(send(message), max(0.001, remaining))
            except asyncio.TimeoutError:
                raise ClientGone(f"the client read {start:,} of {len(body):,} bytes too slowly; connection dropped") from None


def protocol(header_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose request headers take over ``header_timeout`` s."""

    class HeaderDeadline(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def _arm(self) -> None:
            self._deadline = getattr(self, "_deadline", 0) + 1
            self.loop.call_later(header_timeout, self._check, self._deadline)

        def _check(self, deadline: int) -> None:
            # still no complete request headers since the connection opened or the last response ended
            if deadline == self._deadline and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline
