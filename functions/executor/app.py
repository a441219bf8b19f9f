"""EventBridge Scheduler (and run-now) -> one slot of one task. Thin: all logic is in the layer."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.executor.handler import ExecutorHandler

logger = Logger(service="heartbeat-executor")
tracer = Tracer(service="heartbeat-executor")
metrics = Metrics(namespace="Heartbeat", service="heartbeat-executor")
executor = ExecutorHandler.from_env(logger=logger, metrics=metrics)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return executor(event, context)
