"""A recording, fault-injecting HTTP proxy in front of a real SPARQL server (for the push tests).

What a push did is read at the wire, never from the state file the pusher writes itself: every
request the server receives is recorded (method, path, query parameters, body, answer), and a
test may answer a request itself instead of forwarding it (``fault``) to make a chunk fail or
vanish, or look at the real server before a request reaches it (``before``). Everything else is
forwarded byte for byte, authentication headers included (HTTP Digest covers the method and the
request target, both unchanged), so the server behind it is the real one: Oxigraph's server or
Virtuoso from ``sparql_servers``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "accept-encoding"}


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    body: bytes
    content_type: str
    authorization: str | None = None
    status: int = 0  # the answer the client got
    answer: bytes = b""
    forwarded: bool = True

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace")) if self.content_type.startswith("application/x-www-form-urlencoded") else {}

    @property
    def update(self) -> str | None:
        return (self.form.get("update") or [None])[0]

    @property
    def query(self) -> str | None:
        return (self.form.get("query") or self.params.get("query") or [None])[0]

    @property
    def graph(self) -> str | None:
        """The graph of a Graph Store Protocol request (``?graph=``)."""
        return (self.params.get("graph") or [None])[0]

    def mentions(self, iri: str) -> bool:
        return f"<{iri}>" in (self.update or "") or self.graph == iri or iri in self.params.get("default-graph-uri", [])


#: ``fault(request) -> None`` (forward it) or ``(status, body)`` (answer that, not forwarded)
Fault = Callable[[Request], "tuple[int, bytes] | None"]


@dataclass
class Proxy:
    upstream: str  # scheme://host:port of the real server
    fault: Fault | None = None
    before: Callable[[Request], None] | None = None
    requests: list[Request] = field(default_factory=list)

    def start(self) -> Proxy:
        proxy, http = self, httpx.Client(timeout=300)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                request = Request(self.command, url.path, parse_qs(url.query), body, self.headers.get("Content-Type", ""), self.headers.get("Authorization"))
                with lock:  # one request at a time: the record is the order the server saw
                    proxy.requests.append(request)
                    if proxy.before:
                        proxy.before(request)
                    injected = proxy.fault(request) if proxy.fault else None
                    if injected is not None:
                        request.forwarded = False
                        status, answer, headers = injected[0], injected[1], [("Content-Type", "text/plain")]
                    else:
                        headers_out = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                        response = http.request(self.command, proxy.upstream + self.path, content=body, headers=headers_out)
                        status, answer = response.status_code, response.content
                        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
                    request.status, request.answer = status, answer
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http = http
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def url(self, endpoint: str) -> str:
        """``endpoint`` (a URL of the real server) as reached through the proxy."""
        parts = urlsplit(endpoint)
        return f"http://127.0.0.1:{self._server.server_address[1]}{parts.path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def chunk_uploads(self) -> list[Request]:
        """The chunk uploads (Graph Store Protocol POSTs into a graph) the server received."""
        return [r for r in self.requests if r.method == "POST" and r.graph is not None and r.forwarded and r.status < 300]
