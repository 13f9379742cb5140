"""Schemathesis hooks of the API fuzzing test (loaded by its CLI through ``SCHEMATHESIS_HOOKS``).

An exchange account the fuzzer adds is a paper one: a live or testnet account would have the
executor check its keys with the real exchange, and this test sends nothing off the machine.
"""

from __future__ import annotations

from typing import Any

import schemathesis

OFF_MACHINE_MODES = ("live", "testnet")


@schemathesis.hook
def before_call(
    context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: Any
) -> None:
    """Turn a live or testnet exchange account into a paper one, whatever else the body says."""
    for body in (case.body, kwargs.get("json")):
        if isinstance(body, dict) and body.get("mode") in OFF_MACHINE_MODES:
            body["mode"] = "paper"
