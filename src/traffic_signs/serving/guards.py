"""What keeps one client from taking the API down for everyone else.

* :class:`BodyLimit` counts the request body as it streams in (``Content-Length`` or chunked)
  and answers 413 as soon as it passes the limit, instead of trusting a header.
* :class:`InferenceGate` lets a fixed number of requests run the model at once (about two per
  core) and answers 503 with ``Retry-After`` when a request has waited too long for a slot, so
  load piles up as quick refusals rather than as memory and minutes of latency.
* :class:`HeaderTimeoutProtocol` closes connections that never finish sending a request head
  (slow-loris clients); uvicorn alone only times out idle keep-alive connections.
* :func:`install_error_handlers` gives every error, 404/405/422/500 included, one JSON shape:
  ``{"error": message, "status": code}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import resource
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from traffic_signs.settings import Settings, get_settings

RETRY_AFTER_SECONDS = 1
TRIM_DELAY_SECONDS = 1.0
M_ARENA_MAX = -8  # glibc's mallopt parameter number
HEADER_TIMEOUT_SECONDS = 10.0


def error_response(status: int, message: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    """The one error shape every endpoint answers with."""
    return JSONResponse(status_code=status, content={"error": message, "status": status, **extra}, headers=headers)


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passes the limit; caught by :class:`BodyLimit`."""


class BodyLimit:
    """ASGI middleware: a request body larger than ``max_bytes`` gets a JSON 413, however it is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(f"request of {declared:,} bytes", scope, receive, send)
            return
        received, over, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:  # whatever the app answers to a body cut short is replaced by the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counted_receive, guarded_send)
        if over and not started:
            await self._refuse(f"request body above {self.max_bytes:,} bytes", scope, receive, send)

    async def _refuse(self, what: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"{what} exceeds the {self.max_bytes:,}-byte limit",
                                  headers={"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


class Busy(Exception):
    """No inference slot came free in time; answered with 503 and ``Retry-After``."""


class InferenceGate:
    """At most ``slots`` requests run the model at once; a request waits ``wait_seconds`` for
    a slot at most, and at most ``queue`` requests wait at all."""

    def __init__(self, slots: int, wait_seconds: float, queue: int) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.queue = queue
        self._semaphore = asyncio.Semaphore(slots)
        self._waiting = 0

    async def _wait_for_slot(self) -> None:
        if self._waiting >= self.queue:
            raise Busy
        self._waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait_seconds)
        except TimeoutError as exc:
            raise Busy from exc
        finally:
            self._waiting -= 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if not self._semaphore.locked():
            await self._semaphore.acquire()  # a free slot: no timer, no task
        else:
            await self._wait_for_slot()
        try:
            yield
        finally:
            self._semaphore.release()


class MemoryTrimmer:
    """Hands freed memory back to the system once requests pause for ``delay`` seconds: glibc
    keeps what large pictures and batches freed, so one burst would leave the RSS high for good."""

    def __init__(self, delay: float = TRIM_DELAY_SECONDS) -> None:
        self.delay = delay
        self._pending: asyncio.TimerHandle | None = None

    def request_done(self) -> None:
        """Called after every heavy request: postpones the trim until the requests pause."""
        if self._pending is not None:
            self._pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending = loop.call_later(self.delay, lambda: loop.run_in_executor(None, release_free_memory))


def release_free_memory() -> None:
    """Hand memory freed by the last requests back to the system (glibc keeps it otherwise, so
    one burst of large pictures would leave the server's RSS high for good)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def install_error_handlers(app: FastAPI) -> None:
    """Every error the framework raises (unknown path, wrong method, bad parameter, a bug)
    answers in the API's JSON shape and never shows a traceback."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{' '.join(str(part) for part in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
                             for e in exc.errors())
        return error_response(422, problems or "invalid request")

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return error_response(503, "the server is busy; retry shortly",
                              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "internal error")


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, plus: a connection that has not sent a whole request head
    within ``header_timeout`` seconds of connecting (or of its last response) is closed, so
    slow clients cannot hold the server's connections and file descriptors forever."""

    def __init__(self, *args: Any, header_timeout: float = HEADER_TIMEOUT_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self.loop.call_later(self.header_timeout, self._close_if_idle_since, self.cycle)

    def _close_if_idle_since(self, cycle: object) -> None:
        no_new_request = self.cycle is cycle and (cycle is None or self.cycle.response_complete)
        if no_new_request and not self.transport.is_closing():
            self.transport.close()


def server_options(header_timeout: float | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """uvicorn options that bound connections and idle time, from ``settings`` (default: this
    process's, see docs/configuration.md); ``header_timeout`` overrides theirs."""
    settings = settings or get_settings()
    timeout = header_timeout or settings.header_timeout_seconds
    return {
        # A partial, not a subclass made here: uvicorn pickles it for its worker processes.
        "http": functools.partial(HeaderTimeoutProtocol, header_timeout=timeout),
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": 10,
        "h11_max_incomplete_event_size": 16 * 1024,
    }


def limit_malloc_arenas(arenas: int = 2) -> None:
    """At most ``arenas`` glibc malloc arenas (as ``MALLOC_ARENA_MAX=2``): with one arena per
    inference thread, memory freed after a burst stays scattered and is never returned
    (measured: 181 MB settled after a burst from 116 MB idle, against 113 MB with two)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)


def raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard one, so connection limits, not the
    kernel's default of 1,024, decide when the server turns clients away."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
