"""API Gateway (HTTP API, payload 2.0) -> Heartbeat's routes. Thin: all logic is in the layer.

No Powertools Tracer here: importing the X-Ray SDK alone costs about as much as boto3, and Lambda's
Active tracing (template.yaml) already traces every invocation. No Powertools Metrics either: the
routes publish none that API Gateway's own (Count, 4xx, 5xx, Latency) do not already give, and an
empty `log_metrics` warns on every request. See docs/decisions."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.api.handler import ApiHandler, default_services

logger = Logger(service="heartbeat-api")
api = ApiHandler(default_services, logger)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict, context: LambdaContext) -> dict:
    return api(event, context)
