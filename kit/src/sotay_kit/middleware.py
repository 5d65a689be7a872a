"""One pure-ASGI middleware for what every request needs: request id, trace span, metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics, tracing
from .errors import problem_response
from .logs import request_id_var

log = logging.getLogger("sotay.http")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Probes and scrapes are not traffic: they would drown the latency histograms.
_UNMEASURED = frozenset({"/healthz", "/readyz", "/metrics"})


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.tracer = tracing.tracer("sotay.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else str(uuid.uuid4())
        token = request_id_var.set(request_id)
        ctx_token = otel_context.attach(tracing.extract(headers))
        status = 500
        started = False
        start = time.perf_counter()
        method = scope["method"]
        measured = scope["path"] not in _UNMEASURED
        if measured:
            metrics.HTTP_IN_PROGRESS.labels(self.service).inc()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        span_cm = self.tracer.start_as_current_span(
            f"{method} {scope['path']}", kind=trace.SpanKind.SERVER
        )
        try:
            with span_cm as span:
                try:
                    await self.app(scope, receive, send_wrapper)
                except (asyncpg.DataError, OverflowError) as exc:
                    # Postgres (or the driver) refused a value the client sent that validation
                    # let through (a NUL character, an int beyond the column): a client error.
                    # The request's transaction has been rolled back.
                    log.warning(
                        "value refused by the database",
                        extra={"route": _route_template(scope), "error": type(exc).__name__},
                    )
                    status = 422
                    if not started:
                        response = problem_response(
                            422,
                            detail="Giá trị gửi lên không được hệ thống chấp nhận",
                            instance=scope["path"],
                        )
                        await response(scope, receive, send_wrapper)
                except Exception:
                    # Logged here, inside the request's context (request and trace ids);
                    # the client gets a bare 500 that reveals nothing.
                    log.exception("unhandled error", extra={"route": _route_template(scope)})
                    status = 500
                    if not started:
                        response = problem_response(500, instance=scope["path"])
                        await response(scope, receive, send_wrapper)
                finally:
                    route = _route_template(scope)
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.request.method", method)
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    span.set_attribute("sotay.request_id", request_id)
                    if status >= 500:
                        span.set_status(trace.StatusCode.ERROR)
        finally:
            if measured:
                metrics.HTTP_IN_PROGRESS.labels(self.service).dec()
                route = _route_template(scope)
                metrics.HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
                metrics.HTTP_DURATION.labels(self.service, method, route).observe(
                    time.perf_counter() - start
                )
            otel_context.detach(ctx_token)
            request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
