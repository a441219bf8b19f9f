"""The notifications queue (SQS) -> signed webhook deliveries. Thin: all logic is in the layer."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.notify.handler import NotifierHandler

logger = Logger(service="heartbeat-notifier")
notifier = NotifierHandler.from_env()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return notifier(event, context)
