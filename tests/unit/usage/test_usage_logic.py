"""Pure logic of section 10: prices, the usage report's days, lateness in words, the offline
model's structured answers and the smallest instance of a schema."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from heartbeat.soul.providers.offline import OfflineModel
from heartbeat.soul.resolve import SoulSettings
from heartbeat.soul.structured import minimal_instance
from heartbeat.soul.types import Message, ModelRequest, Usage
from heartbeat.usage.budget import BudgetView, DayUsage, lateness, next_utc_day, report
from heartbeat.usage.prices import PriceTable


def test_a_run_is_priced_from_the_table_and_a_providers_own_prices_win():
    table = PriceTable()
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=1_000_000)
    assert table.cost("anthropic/claude-sonnet-4-5", usage) == 3.0 + 1.5 + 0.3
    assert table.cost("offline/heartbeat", usage) == 0
    assert table.cost("ollama/llama3.2", usage) is None  # no known price: no estimate
    settings = SoulSettings.from_env(
        {
            "HEARTBEAT_PROVIDERS": json.dumps(
                {
                    "ollama": {
                        "kind": "openai",
                        "base_url": "http://127.0.0.1:11434/v1",
                        "prices": {"llama3.2": {"input": 0.1, "output": 0.2}},
                    }
                }
            )
        }
    )
    assert (
        PriceTable.from_settings(settings).cost("ollama/llama3.2", usage) == 0.22
    )  # cache reads at the input price


def test_the_report_has_every_day_newest_first_with_zeros():
    rows = report([DayUsage(date="2026-11-29", runs=2, total_tokens=10)], today=date(2026, 11, 30), count=3)
    assert [(r.date, r.runs) for r in rows] == [("2026-11-30", 0), ("2026-11-29", 2), ("2026-11-28", 0)]


def test_a_budget_is_spent_at_its_amount_and_resumes_at_midnight_utc():
    view = BudgetView(daily_tokens=100, today=DayUsage(date="2026-11-30", total_tokens=100))
    assert view.exhausted and view.remaining == 0
    assert not BudgetView(daily_tokens=0, today=DayUsage(date="d", total_tokens=10**9)).exhausted
    assert next_utc_day(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == datetime(2026, 12, 1, tzinfo=UTC)


def test_lateness_reads_as_a_person_would_say_it():
    assert [lateness(s) for s in (45, 200, 7200, 7500)] == ["45 s", "3 min 20 s", "2 h", "2 h 5 min"]


def test_the_smallest_instance_of_a_schema_matches_it():
    schema = {
        "type": "object",
        "properties": {
            "status": {"enum": ["up", "down"]},
            "count": {"type": "integer", "minimum": 2},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            "note": {"type": ["null", "string"]},
        },
        "required": ["status", "count", "tags", "note"],
    }
    assert minimal_instance(schema) == {"status": "up", "count": 2, "tags": ["x"], "note": ""}


def test_the_offline_model_answers_the_json_of_an_answer_line_or_the_smallest_instance():
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}

    def answer(prompt: str) -> str:
        request = ModelRequest(
            system="", messages=(Message(role="user", content=prompt),), output_schema=schema
        )
        return OfflineModel().complete(request).text

    assert answer('Check it.\nanswer: {"ok": true}') == '{"ok": true}'
    assert json.loads(answer("Check it.")) == {"ok": False}
