"""Which events a run produces, their ids, their bodies and their signatures."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks import Webhook

from heartbeat.notify.events import Event, RunFacts, event_id, run_events
from heartbeat.notify.signing import new_secret, signed_headers
from heartbeat.notify.slack import slack_text


def facts(
    status: str, before: int, after: int, *, alert: int = 3, disabled: bool = False, **kw: object
) -> RunFacts:
    return RunFacts(
        tenant_id="acme",
        task_id="cron_1",
        run_id=f"run_{status}_{before}",
        status=status,
        finished_at="2026-12-01T10:00:00.000Z",
        errors_before=before,
        errors_after=after,
        alert_after_errors=alert,
        disabled=disabled,
        task={"id": "cron_1", "name": "nightly"},
        run={"id": f"run_{status}_{before}", "status": status},
        **kw,  # type: ignore[arg-type]
    )


def types(f: RunFacts) -> list[str]:
    return [e.type for e in run_events(f)]


def test_a_failing_streak_alerts_once_when_it_reaches_the_threshold_and_recovery_once():
    streak = [types(facts("error", n, n + 1)) for n in range(6)]
    assert [("task.failing" in t) for t in streak] == [False, False, True, False, False, False]
    assert all("run.failed" in t for t in streak)
    assert types(facts("ok", 6, 0)) == ["run.succeeded", "task.recovered"]
    assert types(facts("ok", 2, 0)) == ["run.succeeded"]  # never alerted: nothing to recover from


def test_an_error_retrying_cannot_fix_alerts_at_once_and_says_the_task_was_disabled():
    assert types(facts("error", 0, 10, disabled=True)) == ["run.failed", "task.failing", "task.disabled"]


def test_agent_notifications_come_first_with_their_title_message_and_severity():
    events = run_events(
        facts(
            "ok",
            0,
            0,
            notifications=({"title": "Deploy lag", "message": "3 pods pending", "severity": "warning"},),
        )
    )
    assert [e.type for e in events] == ["agent.notification", "run.succeeded"]
    assert events[0].data["notification"] == {
        "title": "Deploy lag",
        "message": "3 pods pending",
        "severity": "warning",
    }


def test_event_ids_are_the_same_for_the_same_run_and_type_and_differ_otherwise():
    first, again = run_events(facts("ok", 0, 0)), run_events(facts("ok", 0, 0))
    assert [e.id for e in first] == [e.id for e in again]
    assert event_id("acme", "cron_1", "run_1", "run.succeeded") != event_id(
        "acme", "cron_1", "run_1", "run.failed"
    )
    assert all(e.id.startswith("evt_") and len(e.id) == 30 for e in first)


def test_a_missed_slot_is_its_own_event():
    assert types(facts("missed", 1, 1)) == ["run.missed"]


def test_the_signature_verifies_with_the_standard_webhooks_library_and_fails_when_the_body_changes():
    secret = new_secret()
    event = Event(
        "evt_x", "run.succeeded", "2026-12-01T10:00:00.000Z", "acme", "cron_1", {"run": {"id": "r"}}
    )
    body = event.body()
    headers = signed_headers(secret, event.id, body, datetime.now(UTC))
    assert Webhook(secret).verify(body, headers) == {
        "type": "run.succeeded",
        "timestamp": event.timestamp,
        "data": {"run": {"id": "r"}},
    }
    try:
        Webhook(secret).verify(body.replace('"r"', '"s"'), headers)
    except Exception as exc:  # noqa: BLE001
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("a changed body must not verify")


def test_a_new_secret_is_whsec_and_at_least_24_random_bytes():
    import base64

    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert new_secret() != secret


def test_slack_text_escapes_what_slack_would_read_as_markup():
    text = slack_text("run.failed", {"task": {"name": "<b>x</b> & co"}, "run": {"error": "<!channel> boom"}})
    assert "<b>" not in text and "<!channel>" not in text
    assert "&lt;b&gt;x&lt;/b&gt; &amp; co" in text and "&lt;!channel&gt; boom" in text
