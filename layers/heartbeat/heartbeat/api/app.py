"""The api function's resolver: every route, and the exception handlers that give every answer
the contract's envelope (validation failures are 400, not Powertools' default 422)."""

from __future__ import annotations

import importlib

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from heartbeat.api import openapi, responses
from heartbeat.errors import HeartbeatError

# Route modules, each exposing `router`. Kept as names so the list is the one place to add one.
ROUTE_MODULES = (
    "heartbeat.api.routes.tasks",
    "heartbeat.api.routes.runs",
    "heartbeat.api.routes.memory",
    "heartbeat.api.routes.schedule",
    "heartbeat.api.routes.console",
)


def build_resolver(logger: Logger | None = None) -> APIGatewayHttpResolver:
    log = logger or Logger(service="heartbeat-api")
    app = APIGatewayHttpResolver(enable_validation=True)
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        app.include_router(module.router)
    openapi.register(app)  # GET /v1/openapi.json and GET /docs, from the routes' declarations

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
