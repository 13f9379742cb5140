"""Access lines: every refusal and failure kept, successes sampled."""

from __future__ import annotations

import logging

import pytest

from services.ingress.api.accesslog import SuccessSampler

FORMAT = '%s - "%s %s HTTP/%s" %d'


def access_line(status: int) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it."""
    args = ("203.0.113.9:40000", "POST", "/webhooks/tv/[REDACTED]", "1.1", status)
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, FORMAT, args, None)


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 413, 429, 500, 503])
def test_every_answer_that_is_not_a_success_is_logged(status: int) -> None:
    assert SuccessSampler(0.0).filter(access_line(status))


def test_successes_are_logged_at_the_sample_ratio() -> None:
    sampler = SuccessSampler(0.25)

    kept = sum(sampler.filter(access_line(202)) for _ in range(4000))

    assert 800 < kept < 1200  # 1,000 expected; outside this range by chance: < 1e-12


def test_ratio_zero_drops_and_one_keeps_every_success() -> None:
    none, every = SuccessSampler(0.0), SuccessSampler(1.0)

    for status in (200, 202):
        assert not any(none.filter(access_line(status)) for _ in range(100))
        assert all(every.filter(access_line(status)) for _ in range(100))


def test_a_line_of_another_shape_is_kept() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "odd", None, None)

    assert SuccessSampler(0.0).filter(record)
