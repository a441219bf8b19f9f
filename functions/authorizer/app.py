"""HTTP API Lambda REQUEST authorizer: Bearer key -> tenant and scopes. Thin: logic in the layer."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.keys.authorizer import Authorizer, default_keys

logger = Logger(service="heartbeat-authorizer")
tracer = Tracer(service="heartbeat-authorizer")
authorizer = Authorizer(default_keys)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    return authorizer(event)
