"""A tenant's lifecycle: the moves billing allows, and the one it never makes."""

from __future__ import annotations

import pytest

from services.billing.errors import ConflictError
from services.billing.fsm import TRANSITIONS, Lifecycle, move


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Lifecycle.ACTIVE, Lifecycle.SUSPENDED),
        (Lifecycle.SUSPENDED, Lifecycle.ACTIVE),
        (Lifecycle.ACTIVE, Lifecycle.DELETED),
        (Lifecycle.SUSPENDED, Lifecycle.DELETED),
    ],
)
def test_an_allowed_move_lands_in_its_target(current: Lifecycle, target: Lifecycle) -> None:
    assert move(current, target) is target


@pytest.mark.parametrize("state", list(Lifecycle))
def test_asking_for_the_current_state_is_idempotent(state: Lifecycle) -> None:
    assert move(state, state) is state


@pytest.mark.parametrize("target", [Lifecycle.ACTIVE, Lifecycle.SUSPENDED])
def test_a_deleted_tenant_never_comes_back(target: Lifecycle) -> None:
    with pytest.raises(ConflictError, match="deleted tenant cannot become"):
        move(Lifecycle.DELETED, target)


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(Lifecycle)
