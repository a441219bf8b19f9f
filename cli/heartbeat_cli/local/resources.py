"""Create the stack's stateful resources (tables, schedule group, bucket, queue) on any AWS
endpoint, from the definitions in template.yaml, so local runs and tests never drift from what
deploys. Used by the local stack (against its moto server) and by the tests (against moto)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def project_root(start: Path | None = None) -> Path:
    """The nearest directory holding template.yaml: from `start` (default: the working directory)
    upwards, else the checkout this package is installed from (an editable install)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents, *Path(__file__).resolve().parents):
        if (directory / "template.yaml").is_file():
            return directory
    raise FileNotFoundError("no template.yaml in the working directory or above it: run from the project")


ACCOUNT = "123456789012"
REGION = "us-east-1"


class _CfnLoader:
    """A YAML loader that reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain data."""

    @staticmethod
    def load(text: str) -> dict[str, Any]:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def construct(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
            if isinstance(node, yaml.ScalarNode):
                value: Any = loader.construct_scalar(node)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            return {suffix: value}

        Loader.add_multi_constructor("!", construct)
        return yaml.load(text, Loader=Loader)  # noqa: S506 - SafeLoader subclass


def load_template(path: Path | None = None) -> dict[str, Any]:
    """template.yaml at `path` (default: the project root's)."""
    return _CfnLoader.load((path or project_root() / "template.yaml").read_text())


@dataclass(frozen=True)
class StackNames:
    """The names of the stack's resources on a local endpoint, and the environment the functions
    read them from (the same variables template.yaml sets)."""

    prefix: str = "heartbeat-local"

    def table(self, logical_id: str) -> str:
        return f"{self.prefix}-{logical_id}"

    @property
    def schedule_group(self) -> str:
        return f"{self.prefix}-tasks"

    @property
    def bucket(self) -> str:
        return f"{self.prefix}-artifacts"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}-schedule-dlq"

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.prefix}-{name}"

    @property
    def scheduler_role_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{self.prefix}-scheduler"

    def environment(self, template: dict[str, Any] | None = None, **overrides: str) -> dict[str, str]:
        """The functions' environment: these names, template.yaml's parameter defaults for the
        variables its functions set from parameters, then `overrides`."""
        env = {
            "TASKS_TABLE": self.table("TasksTable"),
            "RUNS_TABLE": self.table("RunsTable"),
            "KEYS_TABLE": self.table("KeysTable"),
            "MEMORY_TABLE": self.table("MemoryTable"),
            "ARTIFACTS_BUCKET": self.bucket,
            "SCHEDULE_GROUP": self.schedule_group,
            "EXECUTOR_ARN": self.function_arn("executor"),
            "SCHEDULER_ROLE_ARN": self.scheduler_role_arn,
            "SCHEDULE_DLQ_ARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.dlq}",
            **parameter_defaults(template or load_template()),
            # Local: the offline model and no deployed provider secrets, unless overridden.
            "DEFAULT_MODEL": "offline/heartbeat",
            "HEARTBEAT_PROVIDERS": "",
            "POWERTOOLS_METRICS_NAMESPACE": "Heartbeat",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_DEFAULT_REGION": REGION,
        }
        env.update(overrides)
        return env


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    """Each environment variable a function (or the Globals) sets to `!Ref <Parameter>`, with that
    parameter's default."""
    parameters = template.get("Parameters", {})
    blocks = [template.get("Globals", {}).get("Function", {})]
    blocks += [
        r.get("Properties", {})
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    env: dict[str, str] = {}
    for block in blocks:
        for name, value in block.get("Environment", {}).get("Variables", {}).items():
            ref = value.get("Ref") if isinstance(value, dict) else None
            if ref in parameters and "Default" in parameters[ref]:
                env[name] = str(parameters[ref]["Default"])
    return env


def _table_request(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in properties:
        request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    return request


def create_table(dynamodb: Any, logical_id: str, name: str, template: dict[str, Any] | None = None) -> None:
    """Create template.yaml's table `logical_id` under `name` (the tests' and the bench's tables)."""
    properties = (template or load_template())["Resources"][logical_id].get("Properties", {})
    dynamodb.create_table(**_table_request(name, properties))


def provision(
    *,
    dynamodb: Any,
    scheduler: Any,
    s3: Any,
    sqs: Any,
    names: StackNames,
    template: dict[str, Any] | None = None,
) -> None:
    """Create every table, the schedule group, the bucket and the queue that template.yaml
    declares. Idempotent: what exists already is left as it is."""
    resources = (template or load_template())["Resources"]
    existing_tables = set(dynamodb.list_tables().get("TableNames", []))
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            name = names.table(logical_id)
            if name in existing_tables:
                continue
            dynamodb.create_table(**_table_request(name, properties))
            ttl = properties.get("TimeToLiveSpecification")
            if ttl:
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        elif kind == "AWS::Scheduler::ScheduleGroup":
            groups = {g["Name"] for g in scheduler.list_schedule_groups().get("ScheduleGroups", [])}
            if names.schedule_group not in groups:
                scheduler.create_schedule_group(Name=names.schedule_group)
        elif kind == "AWS::S3::Bucket":
            buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
            if names.bucket not in buckets:
                s3.create_bucket(Bucket=names.bucket)
        elif kind == "AWS::SQS::Queue":
            sqs.create_queue(QueueName=names.dlq)
