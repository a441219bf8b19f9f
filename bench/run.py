"""`make bench`: Heartbeat's cost and speed figures, side by side in one run, each beside its
budget. Prints a table and writes JSON to bench/results/. Budgets are reported, not asserted."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# (section, module, keyword arguments). A section whose module is absent is reported as such.
SECTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("cold_start", "bench.coldstart", {}),
    ("aws_requests", "bench.requests", {}),
    ("executor", "bench.executor_throughput", {}),
    ("budgets", "bench.budgets", {}),
    ("tokens", "bench.tokens", {}),
    ("scheduler", "bench.scheduler_lateness", {}),
    ("memory_search", "bench.memory_search", {}),
    ("memory_known_item", "bench.memory_known_item", {}),
    ("notifications", "bench.notifications", {}),
    ("scale", "bench.scale", {}),
    ("local_journal", "bench.local_journal", {}),
    ("tools", "bench.tools", {}),
]


def _run(section: str, module_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return {"skipped": f"{module_name} is not built yet"}
    measure: Callable[..., dict[str, Any]] = module.measure
    started = time.perf_counter()
    result = measure(**kwargs)
    result["_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, budget) rows for the table."""
    rows: list[tuple[str, str, str]] = []
    cold = results.get("cold_start", {})
    if "functions" in cold:
        rows.append(("cold start: import boto3 (floor)", f"{cold['boto3_import_s'] * 1000:.0f} ms", ""))
        for name, fig in cold["functions"].items():
            rows.append(
                (
                    f"cold start: {name}",
                    f"{fig['ratio_to_boto3']:.2f}x ({fig['import_s'] * 1000:.0f} ms)",
                    f"<= {fig['budget']}x {'ok' if fig['within_budget'] else 'OVER'}",
                )
            )
    for op, fig in results.get("aws_requests", {}).items():
        if isinstance(fig, dict) and "requests" in fig:
            budget = f"<= {fig['budget']} {'ok' if fig['within_budget'] else 'OVER'}" if fig["budget"] else ""
            rows.append(
                (f"AWS requests: {op}", f"{fig['requests']} (${fig['usd_per_million']}/M ops)", budget)
            )
    for section in ("executor", "budgets", "tokens", "scheduler", "notifications", "local_journal", "tools"):
        for key, value in results.get(section, {}).items():
            if key.startswith("_") or isinstance(value, dict | list):
                continue
            rows.append(
                (f"{section}: {key}", str(value), str(results[section].get("_budgets", {}).get(key, "")))
            )
    memory = results.get("memory_search", {})

    def where(run: dict[str, Any]) -> str:
        return f"{run['passages']} passages ({run['engine']}, index v{run.get('index_version', 2)})"

    for run in memory.get("runs", []):
        budget = memory.get("budget", {})
        judged = run["passages"] == budget.get("passages") and run.get("index_version") != 2
        rows.append(
            (
                f"memory search: {where(run)}",
                f"{run['items_read_max']} items read max, {run['round_trips_max']} round trips, "
                f"{run['search_ms_median']} ms median",
                f"<= {budget['max_items_read']} items {'ok' if memory.get('within_budget') else 'OVER'}"
                if judged
                else "",
            )
        )
    rows.extend(scale_rows(results.get("scale", {})))
    for run in memory.get("runs", []):
        if "recall_at_10_mean" in run:
            rows.append(
                (
                    f"memory search: recall@10 vs brute-force BM25, {where(run)}",
                    f"{run['recall_at_10_mean']:.3f} mean, {run['recall_at_10_min']:.2f} min, "
                    f"{run['exhaustive_searches']}/{run['searches']} exhaustive",
                    "goal 1.00",
                )
            )
    for run in memory.get("runs", []):
        if "bytes_read_max" in run:
            rows.append(
                (
                    f"memory search: bytes and read units per search, {where(run)}",
                    f"{run['bytes_read_median']} B median, {run['bytes_read_max']} B max, "
                    f"{run['read_units_max']} RCU max",
                    "",
                )
            )
        if "write_units_per_insert_v3" in run:
            rows.append(
                (
                    f"memory insert: write units, {where(run)}",
                    f"v3 (blocks) {run['write_units_per_insert_v3']} WCU + {run['read_units_per_insert_v3']} RCU, "
                    f"v2 (a posting an item) {run['write_units_per_insert_v2']} WCU",
                    "",
                )
            )
    known = results.get("memory_known_item", {})
    if "queries" in known:
        rows.append(
            (
                f"memory search: known items in {known['passages']} docstring passages",
                f"source in top 10 {known['source_in_top_10']:.3f} (BM25 {known['bm25_source_in_top_10']:.3f}), "
                f"top 10 = BM25's {known['top_10_equal_to_bm25']}/{known['queries']}, "
                f"{known['exhaustive']}/{known['queries']} exhaustive, {known['items_read_max']} items read max",
                f"== {known['queries']} {'ok' if known['within_budget'] else 'OVER'}",
            )
        )
    if "engines_agree" in memory:
        rows.append(("memory search: moto and in-memory engines agree", str(memory["engines_agree"]), ""))
    for section, fig in results.items():
        if isinstance(fig, dict) and "skipped" in fig:
            rows.append((section, "skipped", fig["skipped"]))
    return rows


def scale_rows(scale: dict[str, Any]) -> list[tuple[str, str, str]]:
    """One row per (N, scenario) of the scale simulation: bench/scale/."""
    rows = []
    for fig in scale.get("runs", []):
        ok = fig["within_budget"]
        item = max(fig["busiest_item_writes_per_s"].values())
        not_run = fig["missed"] + fig["gave_up_waiting_for_tenant_slot"] + fig["dead_lettered_by_lambda"]
        rows.append(
            (
                f"scale: {fig['tasks']:,} tasks, {fig['scenario']} ({fig.get('executor_shards', 1)} shards)",
                f"{fig['peak_invocations_per_s']:,} inv/s peak, {fig['peak_concurrent_runs']:,} concurrent, "
                f"late p50/p99/max {fig['lateness_p50_s']}/{fig['lateness_p99_s']}/{fig['lateness_max_s']} s, "
                f"{not_run:,} slots not run, busiest item {item} writes/s, "
                f"${fig['usd_per_million_runs']['total']}/M runs",
                f"p99 <= 60 s {'ok' if ok['lateness_p99_s'] else 'OVER'}; none missed "
                f"{'ok' if ok['missed'] else 'OVER'}; item <= 1000/s {'ok' if ok['busiest_item_writes_per_s'] else 'OVER'}; "
                f"<= $715/M {'ok' if ok['usd_per_million_runs'] else 'OVER'}",
            )
        )
    return rows


def main() -> int:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    only = set(sys.argv[1:])
    results: dict[str, Any] = {
        "_meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        }
    }
    for section, module_name, kwargs in SECTIONS:
        if only and section not in only:
            continue
        print(f"... {section}", file=sys.stderr, flush=True)
        results[section] = _run(section, module_name, kwargs)
    rows = _rows(results)
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"Heartbeat bench, {results['_meta']['date']}, {results['_meta']['machine']}\n")
    print(f"| {'figure'.ljust(width)} | value | budget |\n|{'-' * (width + 2)}|---|---|")
    for figure, value, budget in rows:
        print(f"| {figure.ljust(width)} | {value} | {budget} |")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # latest.json (the README's table) is written only by a full run.
    for name in (f"{stamp}.json",) if only else (f"{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
