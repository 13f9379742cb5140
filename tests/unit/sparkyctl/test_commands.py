"""What ``sparkyctl`` decides before it calls billing: arguments it refuses, secrets it never
takes on the command line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.helpers.billing import free_socket
from tools.sparkyctl.cli import app


@pytest.fixture
def nowhere() -> Iterator[str]:
    """A billing address nothing answers at (a bound socket that never listens)."""
    sock = free_socket()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def run(url: str, *args: str) -> Any:
    env = {"SPARKY_BILLING_URL": url, "SPARKY_OPERATOR_TOKEN": "sop_unit-test-operator-token"}
    return CliRunner().invoke(app, list(args), env=env)


@pytest.mark.parametrize(
    ("limit", "said"),
    [
        ("max_webhooks", "--limit takes name=value"),
        ("max_webhooks=lots", "max_webhooks: use a whole number, 'unlimited', 'true' or 'false'"),
        ("max_leverage=-5", "max_leverage: use a whole number"),
    ],
)
def test_a_malformed_limit_is_refused_before_billing_is_called(
    nowhere: str, limit: str, said: str
) -> None:
    result = run(nowhere, "plan", "set", "01K0000000000000000000000", "pro", "--limit", limit)
    assert result.exit_code == 1  # 2 would mean it tried to reach billing
    assert said in result.output


def test_the_limits_are_sent_but_billing_must_answer(nowhere: str) -> None:
    limits = ["--limit", "max_webhooks=unlimited", "--limit", "live_trading=true"]
    result = run(nowhere, "plan", "set", "01K0000000000000000000000", "pro", *limits)
    assert result.exit_code == 2
    assert f"Cannot reach billing at {nowhere}: ConnectError." in result.output


def test_no_command_takes_a_token_on_the_command_line() -> None:
    """A token in the arguments would show in ``ps`` and the shell's history."""
    root: Any = typer.main.get_command(app)
    options = [p.opts for p in root.params]
    for group in root.commands.values():
        for command in group.commands.values():
            options += [p.opts for p in command.params]
    assert options
    assert not [o for opts in options for o in opts if "token" in o.lower()]
