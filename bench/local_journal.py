"""What the local stack's write journal costs per acknowledged write: PutItem against the local AWS
endpoint with the journal off and on (each write appended and fsynced before its answer)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

WRITES = 300
BUDGET_MS = 25.0  # the journal's added cost per write (one fsync), median, on this class of machine


def _median_ms(client: Any, table: str, count: int, tag: str) -> float:
    samples = []
    for n in range(count):
        item = {"pk": {"S": "bench"}, "sk": {"S": f"{tag}#{n}"}, "value": {"S": "x" * 200}}
        started = time.perf_counter()
        client.put_item(TableName=table, Item=item)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(writes: int = WRITES) -> dict[str, Any]:
    from heartbeat_cli.local.aws_endpoint import AwsEndpoint, endpoint_clients
    from heartbeat_cli.local.journal import Journal

    endpoint = AwsEndpoint(0)
    endpoint.start()
    try:
        client = endpoint_clients(endpoint.url, ["dynamodb"])["dynamodb"]
        table = "bench-journal"
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        _median_ms(client, table, 20, "warm")
        without = _median_ms(client, table, writes, "off")
        with tempfile.TemporaryDirectory() as tmp:
            journal = Journal(Path(tmp))
            assert endpoint.watcher is not None
            endpoint.watcher.journal = journal
            with_journal = _median_ms(client, table, writes, "on")
            endpoint.watcher.journal = None
            journal.close()
            size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    finally:
        endpoint.stop()
    added = with_journal - without
    return {
        "put_item_ms_without_journal": round(without, 2),
        "put_item_ms_with_journal": round(with_journal, 2),
        "journal_ms_per_write": round(added, 2),
        "journal_bytes_per_write": round(size / writes),
        "within_budget": added <= BUDGET_MS,
        "_budgets": {"journal_ms_per_write": f"<= {BUDGET_MS} ms"},
    }
