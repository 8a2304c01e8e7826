"""argon2 parameters: production's by default, cheap only when a test run asks for it."""

from __future__ import annotations

import logging

import pytest

from quxiang.accounts.service import passwords


def test_production_parameters_unless_the_test_switch_is_set(monkeypatch, caplog):
    monkeypatch.delenv(passwords.HASHING_ENV, raising=False)
    production = passwords.argon2_hasher()
    assert (production.time_cost, production.memory_cost) == (3, 65536)  # the library's RFC 9106 profile
    coded = passwords.argon2_hasher(time_cost=2, memory_cost=19456, parallelism=1)
    assert (coded.time_cost, coded.memory_cost, coded.parallelism) == (2, 19456, 1)

    monkeypatch.setenv(passwords.HASHING_ENV, passwords.FAST_FOR_TESTS)
    with caplog.at_level(logging.WARNING):
        fast = passwords.argon2_hasher(time_cost=2, memory_cost=19456, parallelism=1)
    assert (fast.time_cost, fast.memory_cost) == (1, 1024)
    assert "never in production" in caplog.text


@pytest.mark.parametrize("value", ["", "fast", "FAST-FOR-TESTS", "1"])
def test_only_the_exact_switch_lowers_the_cost(monkeypatch, value):
    monkeypatch.setenv(passwords.HASHING_ENV, value)
    assert passwords.argon2_hasher().memory_cost == 65536


def test_a_hash_made_at_test_cost_is_rehashed_by_a_production_run(monkeypatch):
    monkeypatch.setenv(passwords.HASHING_ENV, passwords.FAST_FOR_TESTS)
    cheap = passwords.argon2_hasher().hash("Demo2026!")
    monkeypatch.delenv(passwords.HASHING_ENV)
    production = passwords.argon2_hasher()
    assert production.verify(cheap, "Demo2026!")
    assert production.check_needs_rehash(cheap)
