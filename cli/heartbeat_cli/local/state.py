"""The local stack's saved state: one JSON file per service in the data directory.

Saved through the AWS APIs (Scan, GetSchedule, GetObject, GetSecretValue), so the files are plain
data a person can read, and restored through them at the next start. Each file is written whole
to a temporary file and renamed over the old one, so a crash never leaves half a file.
SQS messages are not kept (the dead-letter queue is recreated empty)."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from heartbeat_cli.local.resources import ACCOUNT, REGION

FORMAT = 1
PERSISTED = ("dynamodb", "scheduler", "s3", "secretsmanager")


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True, default=_json_default)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot save {type(value).__name__}")


class StateStore:
    """Reads and writes the data directory's `<service>.json` files."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        # Per service restored: the journal generation its snapshot continues from (journal.py).
        self.generations: dict[str, int] = {}

    def path(self, service: str) -> Path:
        return self.data_dir / f"{service}.json"

    def save(
        self, clients: dict[str, Any], services: Iterable[str] = PERSISTED, *, journal: int | None = None
    ) -> None:
        """Save `services`; `journal`: the journal generation whose writes come after this snapshot."""
        for service in services:
            if service in _DUMPERS:
                extra = {} if journal is None else {"journal": journal}
                write_json_atomic(
                    self.path(service), {"format": FORMAT, **extra, **_DUMPERS[service](clients[service])}
                )

    def restore(self, clients: dict[str, Any], services: Iterable[str] = PERSISTED) -> list[str]:
        """Load every saved service into the (freshly provisioned) endpoint; returns what was loaded."""
        loaded = []
        for service in services:
            path = self.path(service)
            if service not in _LOADERS or not path.exists():
                continue
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"{path}: unknown state format {data.get('format')!r}")
            _LOADERS[service](clients[service], data)
            self.generations[service] = int(data.get("journal", 0))
            loaded.append(service)
        return loaded


# --- DynamoDB: every item of every table, in DynamoDB JSON ---------------------------------------


def _dump_dynamodb(client: Any) -> dict[str, Any]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            items: list[dict[str, Any]] = []
            for scan in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                items.extend(scan["Items"])
            tables[name] = items
    return {"tables": tables}


def _load_dynamodb(client: Any, data: dict[str, Any]) -> None:
    existing = set(client.list_tables()["TableNames"])
    for name, items in data["tables"].items():
        if name not in existing:  # a table template.yaml no longer declares: nothing to load into
            continue
        for start in range(0, len(items), 25):
            requests = {name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while requests:
                requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}


# --- EventBridge Scheduler: groups and full schedule definitions ---------------------------------

_SCHEDULE_FIELDS = (
    "Name",
    "GroupName",
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "State",
    "KmsKeyArn",
    "EndDate",
    "ActionAfterCompletion",
)


def _dump_scheduler(client: Any) -> dict[str, Any]:
    groups: list[str] = []
    schedules: list[dict[str, Any]] = []
    for page in client.get_paginator("list_schedule_groups").paginate():
        groups.extend(g["Name"] for g in page["ScheduleGroups"] if g["Name"] != "default")
    for page in client.get_paginator("list_schedules").paginate():
        for summary in page["Schedules"]:
            full = client.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
            full.pop("ResponseMetadata", None)
            schedules.append(full)
    return {"groups": sorted(groups), "schedules": schedules}


def _load_scheduler(client: Any, data: dict[str, Any]) -> None:
    existing = {g["Name"] for g in client.list_schedule_groups()["ScheduleGroups"]}
    for group in data["groups"]:
        if group not in existing:
            client.create_schedule_group(Name=group)
    for schedule in data["schedules"]:
        request = {k: schedule[k] for k in _SCHEDULE_FIELDS if schedule.get(k) is not None}
        client.create_schedule(**request)
        _restore_schedule_dates(schedule)


def _restore_schedule_dates(schedule: dict[str, Any]) -> None:
    """Put back what the API cannot set: CreationDate and LastModificationDate (a rate() schedule
    without a StartDate counts from its creation) and a StartDate in the past (CreateSchedule
    refuses one). moto keeps these on its in-process model, which this process serves."""
    from moto.scheduler.models import scheduler_backends

    model = scheduler_backends[ACCOUNT][REGION].get_schedule(schedule["GroupName"], schedule["Name"])
    for attribute, key in (
        ("creation_date", "CreationDate"),
        ("last_modified_date", "LastModificationDate"),
        ("start_date", "StartDate"),
    ):
        if schedule.get(key) is not None:
            setattr(model, attribute, schedule[key])


# --- S3: every object of every bucket ------------------------------------------------------------


def _dump_s3(client: Any) -> dict[str, Any]:
    buckets: dict[str, dict[str, Any]] = {}
    for bucket in client.list_buckets()["Buckets"]:
        objects: dict[str, Any] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for summary in page.get("Contents", []):
                obj = client.get_object(Bucket=bucket["Name"], Key=summary["Key"])
                objects[summary["Key"]] = {
                    "body": base64.b64encode(obj["Body"].read()).decode(),
                    "content_type": obj.get("ContentType"),
                }
        buckets[bucket["Name"]] = objects
    return {"buckets": buckets}


def _load_s3(client: Any, data: dict[str, Any]) -> None:
    existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
    for bucket, objects in data["buckets"].items():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
        for key, obj in objects.items():
            extra = {"ContentType": obj["content_type"]} if obj.get("content_type") else {}
            client.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(obj["body"]), **extra)


# --- Secrets Manager: provider keys a user stored locally ----------------------------------------


def _dump_secretsmanager(client: Any) -> dict[str, Any]:
    secrets = []
    for page in client.get_paginator("list_secrets").paginate():
        for summary in page["SecretList"]:
            value = client.get_secret_value(SecretId=summary["ARN"])
            secret = {"Name": summary["Name"], "Description": summary.get("Description")}
            if "SecretString" in value:
                secret["SecretString"] = value["SecretString"]
            else:
                secret["SecretBinary"] = base64.b64encode(value["SecretBinary"]).decode()
            secrets.append(secret)
    return {"secrets": secrets}


def _load_secretsmanager(client: Any, data: dict[str, Any]) -> None:
    for secret in data["secrets"]:
        request = {"Name": secret["Name"]}
        if secret.get("Description"):
            request["Description"] = secret["Description"]
        if "SecretString" in secret:
            request["SecretString"] = secret["SecretString"]
        else:
            request["SecretBinary"] = base64.b64decode(secret["SecretBinary"])
        client.create_secret(**request)


_DUMPERS = {
    "dynamodb": _dump_dynamodb,
    "scheduler": _dump_scheduler,
    "s3": _dump_s3,
    "secretsmanager": _dump_secretsmanager,
}
_LOADERS = {
    "dynamodb": _load_dynamodb,
    "scheduler": _load_scheduler,
    "s3": _load_s3,
    "secretsmanager": _load_secretsmanager,
}


# --- when the stack last stopped: where the local scheduler's catch-up starts --------------------

STOPPED_FILE = "stopped.json"


def mark_stopped(data_dir: Path, at: datetime) -> None:
    """Record when the stack stopped (its clock's time), for the next start's catch-up."""
    write_json_atomic(data_dir / STOPPED_FILE, {"stopped_at": at.timestamp()})


def last_stopped(data_dir: Path) -> datetime | None:
    """When the stack that last served `data_dir` stopped: as it recorded, or (it did not stop
    cleanly) when it last saved state; None for a data dir no stack has used."""
    from datetime import UTC

    marker = data_dir / STOPPED_FILE
    if marker.exists():
        try:
            return datetime.fromtimestamp(float(json.loads(marker.read_text())["stopped_at"]), UTC)
        except (ValueError, KeyError, TypeError):
            pass
    saved = [p.stat().st_mtime for p in (data_dir / f"{s}.json" for s in PERSISTED) if p.exists()]
    return datetime.fromtimestamp(max(saved), UTC) if saved else None
