"""`heartbeat tenants set-budget|show --local` on a stopped local stack's data dir (moto in process,
state saved back), as an operator runs them."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from heartbeat_cli.main import main


def heartbeat(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_an_operator_sets_shows_and_removes_a_tenants_daily_budget(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    code, out, err = heartbeat("tenants", "show", "--tenant", "acme", "--local", "--data-dir", data)
    assert code == 0, err
    assert out.splitlines()[0] == "Tenant acme: daily token budget none (the deployment's default)."

    code, out, err = heartbeat(
        "tenants", "set-budget", "--tenant", "acme", "--daily-tokens", "50000", "--local", "--data-dir", data
    )
    assert code == 0, err
    assert out.splitlines()[0] == "Tenant acme: daily token budget 50000 (this tenant's own)."
    assert "0 tokens in 0 runs, $0.0000; 50000 tokens left." in out

    code, out, _ = heartbeat("tenants", "show", "--tenant", "acme", "--local", "--data-dir", data, "--json")
    shown = json.loads(out)  # kept in the data dir for the next start
    assert shown["daily_tokens"] == 50000 and shown["daily_tokens_override"] == 50000
    assert shown["remaining_today"] == 50000 and shown["today"]["runs"] == 0

    code, out, _ = heartbeat(
        "tenants", "set-budget", "--tenant", "acme", "--default", "--local", "--data-dir", data
    )
    assert code == 0 and "(the deployment's default)" in out


def test_a_negative_budget_is_refused_with_what_to_send(tmp_path: Path) -> None:
    code, _, err = heartbeat(
        "tenants",
        "set-budget",
        "--tenant",
        "acme",
        "--daily-tokens",
        "-5",
        "--local",
        "--data-dir",
        str(tmp_path),
    )
    assert code == 1 and err.strip() == "heartbeat tenants: --daily-tokens must be 0 (no budget) or more"
