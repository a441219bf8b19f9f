"""`heartbeat cron explain`: what a schedule will do, for people and for scripts."""

from __future__ import annotations

import json

import pytest

from heartbeat_cli.main import main


def test_json_lists_the_eventbridge_expressions_and_next_times(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "cron",
            "explain",
            "0 18 * * *",
            "--tz",
            "America/New_York",
            "--after",
            "2026-11-22T12:00:00Z",
            "--count",
            "2",
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "eventbridge": ["cron(0 18 * * ? *)"],
        "next": ["2026-11-22T23:00:00.000Z", "2026-11-23T23:00:00.000Z"],
    }


def test_json_shows_both_schedules_and_the_dst_rule(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "cron",
            "explain",
            "30 2 1 * SUN",
            "--tz",
            "America/New_York",
            "--after",
            "2027-03-01T00:00:00Z",
            "--count",
            "4",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert out["eventbridge"] == ["cron(30 2 1 * ? *)", "cron(30 2 ? * SUN *)"]
    # the 1st, then Sundays; on Sunday 2027-03-14 the clocks skip 02:30
    assert out["next"] == [
        "2027-03-01T07:30:00.000Z",
        "2027-03-07T07:30:00.000Z",
        "2027-03-21T06:30:00.000Z",
        "2027-03-28T06:30:00.000Z",
    ]


def test_the_table_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "cron",
            "explain",
            "0 9 * * mon-fri",
            "--tz",
            "Asia/Kolkata",
            "--after",
            "2026-11-20T00:00:00Z",
            "--count",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "cron(0 9 ? * MON-FRI *)" in out
    assert "Asia/Kolkata" in out
    assert "2026-11-20T03:30:00.000Z  Fri 2026-11-20 09:00 IST" in out
    assert "2026-11-23T03:30:00.000Z  Mon 2026-11-23 09:00 IST" in out


def test_an_unquoted_expression_is_joined(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "cron",
            "explain",
            "0",
            "12",
            "*",
            "*",
            "*",
            "--after",
            "2026-11-20T00:00:00Z",
            "--count",
            "1",
            "--json",
        ]
    )
    assert json.loads(capsys.readouterr().out)["next"] == ["2026-11-20T12:00:00.000Z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["61 * * * *"], "minute 61 is out of range 0-59"),
        (["0 9 * * *", "--tz", "Mars/Olympus"], "unknown timezone 'Mars/Olympus'"),
        (["30 0 9 * * *"], "seconds must be 0: EventBridge Scheduler fires at minute precision"),
        (["0 0 */2 * MON"], "EventBridge Scheduler cannot express"),
        (["0 9 * * *", "--after", "soon"], "--after 'soon' is not an ISO 8601 time"),
    ],
)
def test_invalid_input_exits_non_zero_with_the_reason(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cron", "explain", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_a_bad_count_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["cron", "explain", "0 9 * * *", "--count", "0"])
    assert caught.value.code == 2
    assert "not a whole number from 1 to 1000" in capsys.readouterr().err


def test_explain_shows_the_flexible_window_as_eventbridge_takes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cron", "explain", "0 9 * * *", "--flexible-window", "15", "--json", "--count", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["flexible_time_window"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert answer["next"][0].endswith("T09:00:00.000Z")  # the slot itself
    assert main(["cron", "explain", "0 9 * * *", "--count", "1"]) == 0
    assert "flexible     off" in capsys.readouterr().out
