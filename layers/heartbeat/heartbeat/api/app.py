"""The api function's resolver: every route, and the exception handlers that give every answer
the contract's envelope (validation failures are 400, not Powertools' default 422).

Route modules are imported by name here: one that fails to import fails the function's start.
Their routers hold no per-request state: a route takes the caller's tenant and the `Services` as
`Depends` parameters, resolved from the resolver that answers, and each resolver keeps its current
event on itself, so many resolvers in one process (the local stack's simulated containers) never
see each other's requests."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.depends import DependencyResolutionError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from heartbeat.api import openapi, responses
from heartbeat.api.body import parse_json_body
from heartbeat.api.routes import (
    console,
    conversations,
    mcp_servers,
    memory,
    runs,
    schedule,
    tasks,
    usage,
    webhooks,
)
from heartbeat.errors import HeartbeatError

ROUTE_MODULES = (tasks, runs, memory, schedule, conversations, usage, webhooks, mcp_servers, console)


class ApiResolver(APIGatewayHttpResolver):
    """Powertools' resolver with the current event kept on the instance.

    Powertools stores the event being resolved on its `BaseRouter` class, shared by every resolver
    in the process: right on Lambda (one resolver per process), wrong when one process holds many,
    as the local stack does (one per simulated container, answering concurrently). The instance
    attribute shadows the class one, so this resolver, and the `Request` its `Depends` receive,
    read the event it was given."""

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        self.current_event = self._to_proxy_event(event)  # type: ignore[assignment]
        self.lambda_context = context
        return super().resolve(event, context)


def build_resolver(logger: Logger | None = None) -> ApiResolver:
    log = logger or Logger(service="heartbeat-api")
    app = ApiResolver(enable_validation=True, json_body_deserializer=parse_json_body)
    for module in ROUTE_MODULES:
        app.include_router(module.router())
    openapi.register(app)  # GET /v1/openapi.json and GET /docs, from the routes' declarations

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return responses.unsupported_content_type(app.current_event.headers.get("content-type", ""))

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return responses.from_validation_errors(exc.errors())

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response:
        # Powertools decodes the body as UTF-8 before validating it: bytes that are not are a 400.
        if responses.body_is_not_utf8(app.current_event.body, bool(app.current_event.is_base64_encoded)):
            return responses.error_response(
                400, "invalid_request_error", "the request body is not UTF-8: send a JSON object in UTF-8"
            )
        log.exception("unhandled error")
        return responses.internal_error()

    @app.exception_handler(HeartbeatError)
    def _known(exc: HeartbeatError) -> Response:
        if isinstance(exc, responses.errors.DependencyError):
            log.error("dependency failed", error=exc.message)
        return responses.from_error(exc)

    @app.exception_handler(DependencyResolutionError)
    def _dependency(exc: DependencyResolutionError) -> Response:
        # Powertools wraps what a `Depends` raises (the scope check's 401/403): answer the cause.
        cause = exc.__cause__
        while isinstance(cause, DependencyResolutionError):
            cause = cause.__cause__
        if isinstance(cause, HeartbeatError):
            return _known(cause)
        log.exception("unhandled error in a route dependency")
        return responses.internal_error()

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The one catch-all: an unexpected bug still answers in the envelope, with its traceback logged.
        log.exception("unhandled error")
        return responses.internal_error()

    @app.not_found
    def _no_route(exc: Exception) -> Response:
        return responses.error_response(
            404, "not_found_error", f"no route {app.current_event.http_method} {app.current_event.path}"
        )

    return app
