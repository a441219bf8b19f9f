"""API Gateway (HTTP API, payload 2.0) -> Heartbeat's routes. Thin: all logic is in the layer.

No Powertools Tracer here: importing the X-Ray SDK alone costs about as much as boto3, and Lambda's
Active tracing (template.yaml) already traces every invocation. See docs/decisions."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.api.handler import ApiHandler, default_services

logger = Logger(service="heartbeat-api")
metrics = Metrics(namespace="Heartbeat", service="heartbeat-api")
api = ApiHandler(default_services, logger)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return api(event, context)
