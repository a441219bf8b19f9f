"""Every AWS call of every task write route and of the executor, failed in turn in each of the three
ways a call fails, never leaves what is stored inconsistent or contradicting the answer:

- error: AWS answers an error and nothing happens (botocore gave up with a 500);
- lost answer: the call takes effect, then its answer is lost (a read timeout);
- death: the call takes effect and the process dies right after it; the client (or EventBridge)
  then sends the request again, and the executor's next deliveries do their clean-up.

Faults are injected at the botocore boundary of the moto-backed clients (`before-call` raises an
error before the request is sent, `after-call` raises after moto applied it). Run-now's hand-over
to the executor is a call too (the Lambda invoke), failed the same ways.

The invariant, checked per tenant after each case: every task row has exactly its schedules
(names, state, expression), every schedule has its row, no run is left `queued` or `running`, one
run per scheduled slot, and an answer that agrees with what is stored.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from heartbeat.api.config import ApiConfig
from heartbeat.api.deps import AwsClients, Services
from heartbeat.api.handler import ApiHandler
from heartbeat.dal.schedules import schedule_names
from heartbeat.errors import DependencyError
from heartbeat.executor.config import ExecutorConfig
from heartbeat.executor.handler import ExecutorClients, build_executor
from heartbeat.executor.runner import AgentSoulRunner
from heartbeat.schedule import parse_schedule
from heartbeat.soul.resolve import SoulSettings
from heartbeat.soul.types import ModelRequest, ModelResponse, Usage
from heartbeat.timeutil import iso
from support.api import LambdaContext, http_event

# Near the real time: moto stamps a schedule's CreationDate with it, and the janitor compares.
T0 = datetime.now(UTC).replace(second=0, microsecond=0)
TWO_SCHEDULES = "0 9 1 * 1"  # both day fields restricted: two EventBridge schedules
ONE_SCHEDULE = "0 18 * * *"
MODES = ("error", "lost", "death")


class ProcessDied(BaseException):  # noqa: N818 - not an error: the process is gone
    """Raised where the process would die; BaseException so that no handler survives it."""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Model:
    name = "test/echo"

    def complete(self, request: ModelRequest) -> ModelResponse:
        return ModelResponse(text="done", usage=Usage(input_tokens=1, output_tokens=1))


@dataclass
class Injector:
    """Counts the AWS calls made while armed, and fails call number `target` in `mode`."""

    armed: bool = False
    target: int | None = None
    mode: str = "error"
    count: int = 0
    dead: bool = False
    calls: list[str] = field(default_factory=list)

    def arm(self, target: int | None = None, mode: str = "error") -> None:
        self.armed, self.target, self.mode, self.count, self.dead = True, target, mode, 0, False
        self.calls = []

    def disarm(self) -> None:
        self.armed, self.dead = False, False

    def before(self, name: str) -> None:
        if not self.armed:
            return
        if self.dead:
            raise ProcessDied(f"{name} after death")
        self.count += 1
        self.calls.append(name)
        if self.count == self.target and self.mode == "error":
            raise ClientError(
                {
                    "Error": {"Code": "InternalServerError", "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                name,
            )

    def after(self, name: str) -> None:
        if not self.armed or self.count != self.target or self.dead:
            return
        if self.mode == "lost":
            self.target = None  # the retry (if any) goes through
            raise ReadTimeoutError(endpoint_url=f"https://{name}.amazonaws.com")
        if self.mode == "death":
            self.dead = True
            raise ProcessDied(name)

    # botocore event handlers
    def before_call(self, model: Any, **_: Any) -> None:
        self.before(model.name)

    def after_call(self, model: Any, http_response: Any = None, **_: Any) -> None:
        # Only a call that took effect: an error answer changed nothing, so it cannot be "lost".
        if http_response is not None and http_response.status_code < 300:
            self.after(model.name)


class FaultyInvoker:
    """Run-now's hand-over to the executor, in process, as one more call the injector can fail."""

    def __init__(self, injector: Injector, executor: Any, clock: Clock) -> None:
        self._injector = injector
        self._executor = executor
        self._clock = clock

    def invoke(self, event: Mapping[str, Any]) -> None:
        try:
            self._injector.before("Invoke")
        except ClientError as exc:
            raise DependencyError("starting the run failed (injected)") from exc
        for _attempt in range(3):  # an async invoke that fails is retried twice by Lambda
            try:
                self._executor.handle(event, executor_arn="arn:aws:lambda:us-east-1:123456789012:function:x")
                break
            except (DependencyError, ReadTimeoutError, ClientError):
                continue
        try:
            self._injector.after("Invoke")
        except ReadTimeoutError as exc:
            raise DependencyError("starting the run failed (injected timeout)") from exc


class World:
    """The api handler and the executor over one moto account, with faults on their clients."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self.clock = Clock()
        self.injector = Injector()
        for client, service in ((aws.dynamodb, "dynamodb"), (aws.scheduler, "scheduler"), (aws.s3, "s3")):
            client.meta.events.register(f"before-call.{service}", self.injector.before_call)
            client.meta.events.register(f"after-call.{service}", self.injector.after_call)
        soul = AgentSoulRunner(
            SoulSettings.from_env(aws.env),
            memory_client=aws.dynamodb,
            memory_table=aws.env["MEMORY_TABLE"],
            resolve=lambda name: Model(),
        )
        self.executor = build_executor(
            ExecutorConfig.from_env(aws.env),
            ExecutorClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, s3=aws.s3),
            soul=soul,
            clock=self.clock,
        )
        clients = AwsClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, lambda_=None)
        config = ApiConfig.from_env(aws.env)
        invoker = FaultyInvoker(self.injector, self.executor, self.clock)
        self.handler = ApiHandler(
            lambda: Services(config, clients, invoker=invoker, env=aws.env, clock=self.clock)
        )
        self._tenants = itertools.count()

    def tenant(self) -> str:
        return f"tenant-{next(self._tenants)}"

    def call(self, tenant: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.handler(http_event(method, path, body=body, tenant=tenant), LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def deliver(self, tenant: str, task_id: str, slot: datetime) -> None:
        """One EventBridge delivery of `slot`, as the executor's own Lambda would get it."""
        event = {"tenant_id": tenant, "task_id": task_id, "scheduled_time": iso(slot)}
        with contextlib.suppress(DependencyError):  # EventBridge redelivers; the caller does
            self.executor.handle(event, executor_arn="arn:aws:lambda:us-east-1:123456789012:function:x")

    # -- what is stored ------------------------------------------------------------------------
    def rows(self, tenant: str) -> dict[str, dict[str, Any]]:
        tasks = []
        cursor = None
        while True:
            query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            response = self.handler(
                http_event("GET", "/v1/tasks", query=query, tenant=tenant), LambdaContext()
            )
            body = json.loads(response["body"])
            tasks += body["tasks"]
            cursor = body["next_cursor"]
            if not cursor:
                return {t["id"]: t for t in tasks}

    def schedules(self, tenant: str) -> dict[str, dict[str, Any]]:
        group = self.aws.names.schedule_group
        prefix = schedule_names(tenant, "x", 1)[0].removesuffix("x-1")
        found = {}
        for page in self.aws.scheduler.get_paginator("list_schedules").paginate(GroupName=group):
            for summary in page["Schedules"]:
                if summary["Name"].startswith(prefix):
                    found[summary["Name"]] = self.aws.scheduler.get_schedule(
                        Name=summary["Name"], GroupName=group
                    )
        return found

    def runs(self, tenant: str, task_id: str) -> list[dict[str, Any]]:
        response = self.handler(
            http_event("GET", f"/v1/tasks/{task_id}/runs", query={"limit": "100"}, tenant=tenant),
            LambdaContext(),
        )
        body = json.loads(response["body"])
        return body.get("runs", [])


def expected_schedules(task: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The name -> (expression, state) each task row must have in EventBridge."""
    schedule = parse_schedule(task["schedule"], None, now=datetime(1970, 1, 1, tzinfo=UTC))
    specs = schedule.eventbridge()
    state = "ENABLED" if task["enabled"] else "DISABLED"
    names = schedule_names(task["tenant_id"], task["id"], len(specs))
    return {name: (spec.expression, state) for name, spec in zip(names, specs, strict=True)}


def assert_consistent(world: World, tenant: str) -> dict[str, dict[str, Any]]:
    rows = world.rows(tenant)
    stored = world.schedules(tenant)
    want: dict[str, tuple[str, str]] = {}
    for task in rows.values():
        want.update(expected_schedules({**task, "tenant_id": tenant}))
    have = {name: (s["ScheduleExpression"], s["State"]) for name, s in stored.items()}
    assert have == want, "every task row has exactly its schedules, and every schedule its row"
    for task_id in rows:
        runs = world.runs(tenant, task_id)
        assert not [r for r in runs if r["status"] in ("queued", "running")], "no run left in flight"
        slots = [r["scheduled_at"] for r in runs if r["trigger"] == "schedule"]
        assert len(slots) == len(set(slots)), "one run per slot"
    return rows


# -- the scenarios: set up without faults, then the request that faults are injected into -------


@dataclass
class Scenario:
    name: str
    setup: Callable[[World, str], dict[str, Any]]
    request: Callable[[World, str, dict[str, Any]], tuple[int, Any]]
    check: Callable[[World, str, dict[str, Any], tuple[int, Any], dict[str, dict[str, Any]]], None]
    # After recovery (the executor has no answer to check: its outcome is what is stored then).
    settled: Callable[[World, str, dict[str, Any]], None] = lambda world, tenant, ctx: None


def _create(world: World, tenant: str, schedule: str = ONE_SCHEDULE) -> dict[str, Any]:
    status, body = world.call(tenant, "POST", "/v1/tasks", {"name": "n", "prompt": "p", "schedule": schedule})
    assert status == 201
    return dict(body["task"])


def _no_setup(world: World, tenant: str) -> dict[str, Any]:
    return {}


def _check_create(world, tenant, ctx, answer, rows) -> None:
    status, body = answer
    if status == 201:
        assert rows[body["task"]["id"]]["schedule"] == body["task"]["schedule"]
    else:
        assert status >= 500 and body["error"]["type"] == "api_error" and rows == {}


def _patch(changes: dict[str, Any], schedule: str) -> Scenario:
    def setup(world: World, tenant: str) -> dict[str, Any]:
        return {"task": _create(world, tenant, schedule)}

    def request(world: World, tenant: str, ctx: dict[str, Any]) -> tuple[int, Any]:
        return world.call(tenant, "PATCH", f"/v1/tasks/{ctx['task']['id']}", changes)

    def check(world, tenant, ctx, answer, rows) -> None:
        status, body = answer
        stored = rows[ctx["task"]["id"]]
        if status == 200:
            assert {k: stored[k] for k in ("schedule", "enabled", "updated_at")} == {
                k: body["task"][k] for k in ("schedule", "enabled", "updated_at")
            }
        else:
            assert status >= 500 or status == 409
            assert stored["updated_at"] == ctx["task"]["updated_at"], "a failed change changes nothing"

    return Scenario(f"patch {changes}", setup, request, check)


def _delete_request(world, tenant, ctx):
    return world.call(tenant, "DELETE", f"/v1/tasks/{ctx['task']['id']}")


def _check_delete(world, tenant, ctx, answer, rows) -> None:
    status, _ = answer
    assert (ctx["task"]["id"] in rows) == (status != 200)


def _run_request(world, tenant, ctx):
    return world.call(tenant, "POST", f"/v1/tasks/{ctx['task']['id']}/run")


def _check_run(world, tenant, ctx, answer, rows) -> None:
    status, body = answer
    runs = {r["id"]: r for r in world.runs(tenant, ctx["task"]["id"])}
    if status == 202:
        assert body["run"]["id"] in runs, "an accepted run is stored"
    else:
        assert status >= 500
        assert all(r["status"] == "error" for r in runs.values()), "a failed start ran nothing"


def _deliver_request(world, tenant, ctx):
    world.deliver(tenant, ctx["task"]["id"], ctx["slot"])
    return 0, None


def _deliver_setup(world: World, tenant: str) -> dict[str, Any]:
    return {"task": _create(world, tenant), "slot": T0 + timedelta(hours=6)}


def _check_delivery(world, tenant, ctx) -> None:
    runs = world.runs(tenant, ctx["task"]["id"])
    assert [r["scheduled_at"] for r in runs if r["trigger"] == "schedule"].count(iso(ctx["slot"])) == 1


SCENARIOS = [
    Scenario(
        "create with two schedules",
        _no_setup,
        lambda w, t, c: w.call(
            t, "POST", "/v1/tasks", {"name": "n", "prompt": "p", "schedule": TWO_SCHEDULES}
        ),
        _check_create,
    ),
    _patch({"schedule": ONE_SCHEDULE}, TWO_SCHEDULES),
    _patch({"schedule": TWO_SCHEDULES}, ONE_SCHEDULE),
    _patch({"enabled": False}, TWO_SCHEDULES),
    Scenario("delete", lambda w, t: {"task": _create(w, t, TWO_SCHEDULES)}, _delete_request, _check_delete),
    Scenario("run now", lambda w, t: {"task": _create(w, t)}, _run_request, _check_run),
    Scenario(
        "executor delivery",
        _deliver_setup,
        _deliver_request,
        lambda world, tenant, ctx, answer, rows: None,
        settled=_check_delivery,
    ),
]


def recover(world: World, tenant: str, scenario: Scenario, ctx: dict[str, Any], died: bool) -> None:
    """What the world does after a failure: the client retries a request that died; EventBridge
    redelivers the slot; later, every schedule that is left fires once (the executor's janitor)."""
    world.clock.now += timedelta(minutes=20)  # past the janitor's grace, leases and stranded runs
    if died or scenario.name == "executor delivery":
        scenario.request(world, tenant, ctx)
    for schedule in world.schedules(tenant).values():
        task_id = json.loads(schedule["Target"]["Input"])["task_id"]
        world.deliver(tenant, task_id, world.clock.now.replace(second=0, microsecond=0))
    for task_id in world.rows(tenant):  # a later slot: a run that died holding its lease is closed
        world.clock.now += timedelta(hours=1)
        world.deliver(tenant, task_id, world.clock.now.replace(second=0, microsecond=0))


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_no_single_failed_call_leaves_anything_inconsistent(aws, scenario: Scenario) -> None:
    world = World(aws)
    # A clean run first: how many calls the request makes, and that it succeeds.
    tenant = world.tenant()
    ctx = scenario.setup(world, tenant)
    world.injector.arm()
    answer = scenario.request(world, tenant, ctx)
    world.injector.disarm()
    calls = list(world.injector.calls)
    assert calls, "the request makes AWS calls"
    scenario.check(world, tenant, ctx, answer, assert_consistent(world, tenant))

    for target, mode in itertools.product(range(1, len(calls) + 1), MODES):
        tenant = world.tenant()
        world.clock.now = T0
        ctx = scenario.setup(world, tenant)
        world.injector.arm(target, mode)
        died = False
        try:
            answer = scenario.request(world, tenant, ctx)
        except ProcessDied:
            died = True
        failed_call = world.injector.calls[target - 1] if len(world.injector.calls) >= target else None
        world.injector.disarm()
        where = f"{mode} at call {target} ({failed_call}) of {calls}"
        if not died:
            status, body = answer
            assert status == 0 or status < 500 or body["error"]["type"] == "api_error", where
            rows = world.rows(tenant)
            try:
                scenario.check(world, tenant, ctx, answer, rows)
            except AssertionError as exc:
                raise AssertionError(f"{where}: the answer disagrees with what is stored: {exc}") from exc
        recover(world, tenant, scenario, ctx, died)
        try:
            assert_consistent(world, tenant)
            scenario.settled(world, tenant, ctx)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from exc


def test_a_run_whose_start_died_is_settled_as_an_error_when_its_runs_are_listed(aws) -> None:
    world = World(aws)
    tenant = world.tenant()
    task = _create(world, tenant)
    world.injector.arm()
    world.call(tenant, "POST", f"/v1/tasks/{task['id']}/run")
    put = world.injector.calls.index("PutItem") + 1  # the queued record's write
    world.injector.arm(put, "death")
    with pytest.raises(ProcessDied):
        world.call(tenant, "POST", f"/v1/tasks/{task['id']}/run")
    world.injector.disarm()
    stranded = [r for r in world.runs(tenant, task["id"]) if r["status"] == "queued"]
    assert len(stranded) == 1, "just after, it may still be on its way"
    world.clock.now += timedelta(minutes=16)
    settled = {r["id"]: r for r in world.runs(tenant, task["id"])}[stranded[0]["id"]]
    assert settled["status"] == "error" and "never reached the executor" in settled["error"]
