"""template.yaml's 16 executor functions: the same function 16 times, every one invokable by the
Scheduler role and the api, and listed to the api in shard order."""

from __future__ import annotations

from typing import Any

from heartbeat_cli.local.resources import StackNames, load_template

SHARDS = ["ExecutorFunction"] + [f"ExecutorShard{n}" for n in range(1, 16)]


def arn_refs(resources: list[Any]) -> list[str]:
    return [r["GetAtt"].split(".")[0] for r in resources]


def invoke_resources(statements: list[dict[str, Any]]) -> list[str]:
    (statement,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    return arn_refs(statement["Resource"])


def test_every_shard_is_the_executor_function_with_its_role() -> None:
    resources = load_template()["Resources"]
    executor = resources["ExecutorFunction"]["Properties"]
    same = (
        "CodeUri",
        "Handler",
        "Timeout",
        "MemorySize",
        "ReservedConcurrentExecutions",
        "EventInvokeConfig",
    )
    for name in SHARDS[1:]:
        shard = resources[name]["Properties"]
        assert {k: shard[k] for k in same} == {k: executor[k] for k in same}, name
        assert shard["Environment"] == executor["Environment"], name
        assert shard["Role"] == {"GetAtt": "ExecutorFunctionRole.Arn"}
        alarm = resources[f"{name}ErrorsAlarm"]["Properties"]
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]
    parameter = load_template()["Parameters"]["ExecutorShards"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (1, len(SHARDS))


def test_the_scheduler_role_and_the_api_may_invoke_every_shard_and_the_api_lists_them_in_order() -> None:
    resources = load_template()["Resources"]
    (role_policy,) = resources["SchedulerRole"]["Properties"]["Policies"]
    assert invoke_resources(role_policy["PolicyDocument"]["Statement"]) == SHARDS
    api = resources["ApiFunction"]["Properties"]
    assert invoke_resources(api["Policies"][0]["Statement"]) == SHARDS
    variables = api["Environment"]["Variables"]
    separator, listed = variables["EXECUTOR_ARNS"]["Join"]
    assert separator == "," and arn_refs(listed) == SHARDS
    assert variables["EXECUTOR_SHARDS"] == {"Ref": "ExecutorShards"}


def test_the_local_stack_sends_every_tenant_to_its_one_executor() -> None:
    from heartbeat.api.config import ApiConfig

    names = StackNames()
    config = ApiConfig.from_env(names.environment())
    assert config.executor_shards == 4  # the template's default, read as the deployed api reads it
    assert config.executors.arns == (names.function_arn("executor"),)
    assert {config.executors.for_tenant(f"tenant-{n}") for n in range(50)} == {names.function_arn("executor")}
