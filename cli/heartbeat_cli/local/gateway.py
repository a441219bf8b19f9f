"""API Gateway (HTTP API) in this process: the template's routes, the Lambda REQUEST authorizer
with its cache, the payload 2.0 event, and the mapping of the function's answer to HTTP.

Knows nothing of sockets: `Gateway.handle(HttpRequest) -> HttpResponse`; `api_server` serves it."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote

from heartbeat_cli.local.clock import Clock
from heartbeat_cli.local.resources import ACCOUNT, REGION

log = logging.getLogger("heartbeat.local")

Function = Callable[[dict[str, Any]], Any]  # an in-process Lambda: event -> result, raises on error
_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded))"
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    authorized: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        found = _pattern(self.path).fullmatch(path)
        return {k: unquote(v) for k, v in found.groupdict().items()} if found else None

    @property
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers literal segments over parameters, and a named method over ANY."""
        segments = self.path.strip("/").split("/")
        literal = sum(1 for s in segments if not s.startswith("{"))
        greedy = sum(1 for s in segments if s.endswith("+}"))
        return (literal, -greedy, int(self.method != "ANY"))


@lru_cache(maxsize=256)
def _pattern(route_path: str) -> re.Pattern[str]:
    """`/v1/tasks/{task_id}` -> a regex with one group per parameter; `{proxy+}` is greedy."""
    parts = []
    for part in re.split(r"(\{[^}]+\})", route_path):
        if part.endswith("+}"):
            parts.append(f"(?P<{part[1:-2]}>.+)")
        elif part.startswith("{"):
            parts.append(f"(?P<{part[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(part))
    return re.compile("".join(parts))


@dataclass(frozen=True)
class AuthorizerSettings:
    identity_headers: tuple[str, ...] = ("authorization",)
    ttl: timedelta = timedelta(seconds=300)
    simple_responses: bool = True


def routes_from_template(template: Mapping[str, Any]) -> list[Route]:
    """Every HttpApi event of every function: the routes API Gateway would have."""
    routes = []
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties", {})
            authorizer = (props.get("Auth") or {}).get("Authorizer")
            routes.append(Route(props.get("Method", "ANY").upper(), props["Path"], authorizer != "NONE"))
    return routes


def authorizer_from_template(template: Mapping[str, Any]) -> AuthorizerSettings:
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        auth = resource.get("Properties", {}).get("Auth", {})
        name = auth.get("DefaultAuthorizer")
        config = auth.get("Authorizers", {}).get(name, {})
        if config and not (
            config.get("EnableFunctionDefaultPermissions") or config.get("FunctionInvokeRole")
        ):
            # SAM grants an HTTP API no permission to invoke its Lambda authorizer by default: on
            # AWS every request would fail with 500 before reaching it. Refuse it here too.
            raise ValueError(
                f"template.yaml: the HTTP API may not invoke its authorizer {name}; set "
                "EnableFunctionDefaultPermissions: true (or a FunctionInvokeRole) on it"
            )
        identity = config.get("Identity", {})
        return AuthorizerSettings(
            identity_headers=tuple(h.lower() for h in identity.get("Headers", ["Authorization"])),
            ttl=timedelta(seconds=int(identity.get("ReauthorizeEvery", 300))),
            simple_responses=bool(config.get("EnableSimpleResponses", False)),
        )
    return AuthorizerSettings()


@dataclass
class HttpRequest:
    method: str
    target: str  # path and query as received, e.g. /v1/tasks?limit=2
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def message(cls, status: int, text: str) -> HttpResponse:
        return cls(status, [("content-type", "application/json")], json.dumps({"message": text}).encode())


class Gateway:
    def __init__(
        self,
        routes: list[Route],
        authorizer: Function,
        integration: Function,
        clock: Clock,
        settings: AuthorizerSettings | None = None,
        api_id: str = "local",
    ) -> None:
        self._routes = sorted(routes, key=lambda r: r.specificity, reverse=True)
        self._authorizer = authorizer
        self._integration = integration
        self._clock = clock
        self._settings = settings or AuthorizerSettings()
        self._api_id = api_id
        self._cache: dict[tuple[str, ...], tuple[datetime, dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()

    def handle(self, request: HttpRequest) -> HttpResponse:
        path, _, raw_query = request.target.partition("?")
        matched = self._match(request.method.upper(), path)
        if matched is None:
            return HttpResponse.message(404, "Not Found")
        route, params = matched
        event = self._event(request, route, path, raw_query, params)
        if route.authorized:
            denied = self._authorize(event)
            if denied is not None:
                return denied
        try:
            result = self._integration(event)
        # The boundary of a Lambda invocation: a function error is API Gateway's 500, whatever it was.
        except Exception:  # noqa: BLE001
            log.exception("the api function failed")
            return HttpResponse.message(500, "Internal Server Error")
        return integration_response(result)

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self._routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None

    def _event(
        self, request: HttpRequest, route: Route, path: str, raw_query: str, params: dict[str, str]
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in request.headers:
            name = name.lower()
            if name == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
            else:
                headers[name] = f"{headers[name]},{value}" if name in headers else value
        query: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        now = self._clock.now()
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": self._api_id,
                "domainName": headers.get("host", "127.0.0.1").split(":")[0],
                "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0].split(":")[0],
                "http": {
                    "method": request.method.upper(),
                    "path": unquote(path),
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": route.key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
        if params:
            event["pathParameters"] = params
        if request.body:
            content_type = headers.get("content-type", "")
            try:
                text = request.body.decode()
                binary = bool(content_type) and not _TEXT_TYPES.match(content_type)
            except UnicodeDecodeError:
                binary = True
            event["body"] = base64.b64encode(request.body).decode() if binary else text
            event["isBase64Encoded"] = binary
        return event

    def _authorize(self, event: dict[str, Any]) -> HttpResponse | None:
        """Run the authorizer as API Gateway does; None when allowed (with its context in the event)."""
        identity = tuple(event["headers"].get(h, "") for h in self._settings.identity_headers)
        if not all(identity):
            return HttpResponse.message(401, "Unauthorized")  # never reaches the authorizer
        now = self._clock.now()
        with self._cache_lock:
            cached = self._cache.get(identity)
        if cached is not None and cached[0] > now:
            answer = cached[1]
        else:
            request = {
                **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")},
                "type": "REQUEST",
                "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{self._api_id}/$default/"
                f"{event['requestContext']['http']['method']}{event['rawPath']}",
                "identitySource": list(identity),
            }
            try:
                answer = self._authorizer(request)
            # The boundary of a Lambda invocation: `Unauthorized` is API Gateway's 401, any other error its 500.
            except Exception as exc:  # noqa: BLE001
                if str(exc) == "Unauthorized":
                    return HttpResponse.message(401, "Unauthorized")
                log.exception("the authorizer failed")
                return HttpResponse.message(500, "Internal Server Error")
            if not isinstance(answer, dict) or "isAuthorized" not in answer:
                log.error("the authorizer answered without isAuthorized: %r", answer)
                return HttpResponse.message(500, "Internal Server Error")
            if self._settings.ttl > timedelta(0):
                with self._cache_lock:
                    self._cache[identity] = (now + self._settings.ttl, answer)
        if not answer.get("isAuthorized"):
            return HttpResponse.message(403, "Forbidden")
        event["requestContext"]["authorizer"] = {"lambda": dict(answer.get("context") or {})}
        return None


def integration_response(result: Any) -> HttpResponse:
    """A payload 2.0 Lambda answer as API Gateway turns it into HTTP."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode()
        return HttpResponse(200, [("content-type", "application/json")], body)
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name.lower(), str(v)) for v in values)
    headers.extend(("set-cookie", c) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    if not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, body)
