"""GET /console (and its script and stylesheet): the operators' page, served as files from the
layer (heartbeat/console). It needs no key to load; it asks for one and calls the API with it.

Content-Security-Policy lets the page run only its own script and style and talk only to this API;
the script puts every value in as text, so a task named `<img onerror=...>` is just a name."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api.responses import error_response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def _file(name: str, content_type: str) -> Response:
    from importlib.resources import files

    body = files("heartbeat.console").joinpath(name).read_text(encoding="utf-8")
    return Response(
        status_code=200,
        content_type=content_type,
        body=body,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver (see api/routes/tasks.py)."""
    router = APIGatewayHttpRouter()

    @router.get("/console", include_in_schema=False, compress=True)
    def console_page():  # no return annotation: Powertools would validate it as a model
        return _file("index.html", "text/html; charset=utf-8")

    @router.get("/console/<asset>", include_in_schema=False, compress=True)
    def console_asset(asset: str):
        if asset not in ASSETS:
            return error_response(404, "not_found_error", f"no console file '{asset}'")
        return _file(asset, ASSETS[asset])

    return router
