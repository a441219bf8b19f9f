"""The API's documents: `GET /v1/openapi.json` (OpenAPI 3.1, built by the Powertools resolver from
the routes' own declarations) and `GET /docs` (Swagger UI, with the Swagger UI assets Powertools
bundles, so nothing is fetched from a CDN). Neither needs a key (template.yaml: Authorizer NONE).

A route documents itself on its decorator with `documented(...)`: the scope it needs, its answer
model and status, and the errors of its own (404, 409, 429). `document()` then adds what every
route shares: the bearer scheme, the scope in the description, the error envelope for 400 (where
it takes input), 403 and 500, API Gateway's 401, and drops the 422 Powertools would list (validation failures are 400
here: api/app.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heartbeat.api import schemas

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from pydantic import BaseModel

TITLE = "Heartbeat API"
VERSION = "1"
SCHEME = "bearer"
JSON = "application/json"
DESCRIPTION = (
    "Cron-scheduled background agent tasks. Send `Authorization: Bearer <key>` with a Heartbeat "
    "key (`heartbeat keys create`); each operation names the scope its key needs. Errors answer "
    '`{"error": {"type", "message", "param"}}`.'
)
ERROR_DESCRIPTIONS = {
    400: "Invalid request: the message says what to fix and param names the field",
    401: "No key, or a key that is unknown or revoked (answered by API Gateway)",
    403: "The key lacks the scope this operation needs",
    404: "No such resource for this key's tenant",
    409: "Conflict with the resource's current state",
    429: "Over a tenant quota",
    500: "Server error: retry later",
}


def documented(
    scope: str,
    answer: type[BaseModel],
    *,
    status: int = 200,
    errors: tuple[int, ...] = (),
    also: dict[int, str] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for a route decorator: `@router.get(path, summary=..., **documented(...))`.
    `also` lists other success statuses with the same answer model, and when each is answered
    (`{200: "the same text was stored already"}`)."""
    responses: dict[int, Any] = {status: {"description": "OK", "content": {JSON: {"model": answer}}}}
    for code, when in (also or {}).items():
        responses[code] = {"description": when, "content": {JSON: {"model": answer}}}
    for code in errors:
        responses[code] = _error_response(code)
    kwargs: dict[str, Any] = {"security": [{SCHEME: [scope]}], "responses": responses}
    if description:
        kwargs["description"] = description
    return kwargs


def _error_response(code: int) -> dict[str, Any]:
    model = schemas.GatewayMessage if code == 401 else schemas.ErrorEnvelope
    return {"description": ERROR_DESCRIPTIONS.get(code, "Error"), "content": {JSON: {"model": model}}}


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route the resolver has, as a JSON-ready dict."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    spec = app.get_openapi_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={
            SCHEME: HTTPBearer(
                bearerFormat="hb_live_... or hb_test_...",
                description="A Heartbeat API key; its scopes are listed on each operation.",
            )
        },
    )
    doc: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    schemas_ = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, model in (("ErrorEnvelope", schemas.ErrorEnvelope), ("GatewayMessage", schemas.GatewayMessage)):
        if name not in schemas_:
            schemas_.update(_model_schemas(model))
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                _finish_operation(operation)
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas_.pop(unused, None)
    return doc


def _finish_operation(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    responses.pop("422", None)
    scopes = [scope for requirement in operation.get("security", []) for scope in requirement.get(SCHEME, [])]
    if scopes:
        needs = f"Needs a key with the `{'`, `'.join(scopes)}` scope."
        operation["description"] = (
            f"{needs}\n\n{operation['description']}" if operation.get("description") else needs
        )
        codes = [401, 403, 500]
    else:
        codes = [500]
    if operation.get("parameters") or operation.get("requestBody"):
        codes.insert(0, 400)
    for code in codes:
        if str(code) not in responses:
            responses[str(code)] = _error_ref(code)
    if scopes and "500" in responses:
        # API Gateway answers its own 500 when the function cannot be reached at all.
        responses["500"] = {
            "description": ERROR_DESCRIPTIONS[500],
            "content": {
                JSON: {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/ErrorEnvelope"},
                            {"$ref": "#/components/schemas/GatewayMessage"},
                        ]
                    }
                }
            },
        }


def _error_ref(code: int) -> dict[str, Any]:
    name = "GatewayMessage" if code == 401 else "ErrorEnvelope"
    return {
        "description": ERROR_DESCRIPTIONS.get(code, "Error"),
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def _model_schemas(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {model.__name__: schema, **nested}


def register(app: APIGatewayHttpResolver) -> None:
    """Add `GET /v1/openapi.json` and `GET /docs` to the resolver (both outside the document)."""
    from heartbeat.api.responses import json_response

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_json():  # no return annotation: Powertools would validate it as a model
        return json_response(200, document(app))

    @app.get("/docs", include_in_schema=False, compress=True)
    def swagger_ui():
        if (app.current_event.query_string_parameters or {}).get("format") == "json":
            return json_response(200, document(app))
        return _swagger_page(document(app))


def _swagger_page(doc: dict[str, Any]) -> Response:
    """Powertools' own Swagger UI page, with its bundled JavaScript and CSS inlined."""
    import json
    from importlib.resources import files

    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    spec = json.dumps(doc).replace("</", "<\\/")  # the document cannot end the page's <script>
    html = generate_swagger_html(
        spec,
        assets.joinpath("swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        assets.joinpath("swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
        False,
    )
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=html,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
