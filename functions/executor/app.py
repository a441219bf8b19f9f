"""EventBridge Scheduler (and run-now) -> one slot of one task. Thin: all logic is in the layer.

Tracer is built at the first invocation, not at import: constructing it imports the X-Ray SDK and
patches botocore (about as long as importing boto3), and nothing before the first event needs it.
It is built before the executor's clients (which the first event builds too), and the patch is on
botocore's client class, so every invocation and its AWS calls are traced as before."""

from collections.abc import Callable
from functools import cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from heartbeat.executor.handler import ExecutorHandler

SERVICE = "heartbeat-executor"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Heartbeat", service=SERVICE)
executor = ExecutorHandler.from_env(logger=logger, metrics=metrics)


@cache
def traced_handler() -> Callable[[dict, LambdaContext], dict]:
    """The handler inside Tracer's `## handler` subsegment, with metrics: built at the first call."""
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=SERVICE)

    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict, context: LambdaContext) -> dict:
        return executor(event, context)

    return handler


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return traced_handler()(event, context)
