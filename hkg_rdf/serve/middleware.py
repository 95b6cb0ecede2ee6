"""ASGI middleware of every response: the nosniff header and the access log."""

from __future__ import annotations

import logging
import sys
import time

from .server import ServeConfig

access = logging.getLogger("hkg_rdf.serve.access")


class SecurityHeaders:
    """nosniff on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, sending)


class AccessLog:
    """One line per request, Combined Log Format plus the time taken."""

    def __init__(self, app, config: ServeConfig):
        self.app = app
        if not access.handlers:
            handler = logging.FileHandler(config.access_log) if config.access_log else logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            access.addHandler(handler)
            access.setLevel(logging.INFO)
            access.propagate = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        state = {"status": 500, "bytes": 0}

        async def sending(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            headers = dict(scope.get("headers") or [])
            client = (scope.get("client") or ("-", 0))[0]
            target = scope.get("raw_path", b"").decode("latin-1") + (("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else "")
            if len(target) > 1000:
                target = target[:1000] + "..."
            when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
            referer = headers.get(b"referer", b"-").decode("latin-1")
            agent = headers.get(b"user-agent", b"-").decode("latin-1")
            access.info('%s - - [%s] "%s %s HTTP/%s" %d %d "%s" "%s" %.3f',
                        client, when, scope["method"], target.replace('"', "%22"), scope.get("http_version", "1.1"),
                        state["status"], state["bytes"], referer.replace('"', "%22"), agent.replace('"', "%22"), time.monotonic() - started)
