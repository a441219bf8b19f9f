"""HTTP API Lambda REQUEST authorizer: Bearer key -> tenant and scopes. Thin: logic in the layer.

No Powertools Tracer (cold start; Lambda's Active tracing covers it): see docs/decisions."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.keys.handler import Authorizer, default_keys

logger = Logger(service="heartbeat-authorizer")
authorizer = Authorizer(default_keys)


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return authorizer(event)
