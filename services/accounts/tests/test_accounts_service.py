import pytest

from quxiang.accounts.adapters.tables import metadata
from quxiang.accounts.bootstrap import SERVICE
from quxiang.common.migrations import AUTH_RECENT_INDEX
from quxiang.common.testing.plugin import database_url, make_test_config
from quxiang.common.testing.service_checks import (
    assert_migrations_round_trip,
    assert_service_boots,
    assert_step_matches_the_tables,
)


def test_boots_on_the_embedded_default(tmp_path):
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    assert_service_boots(SERVICE, config)
    assert_migrations_round_trip(SERVICE, config)


def test_migrates_on_postgresql(pg_url, tmp_path):
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    assert_migrations_round_trip(SERVICE, config)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_unissued_codes_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0006", metadata) == \
        {"ix_activation_codes_unissued", AUTH_RECENT_INDEX}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_recent_revocations_index_comes_and_goes_with_its_step(database, request, tmp_path):
    url = database_url(request, database, tmp_path)
    config = make_test_config(SERVICE.name, url, "embedded", tmp_path)
    assert assert_step_matches_the_tables(SERVICE, config, "0007", metadata) == {AUTH_RECENT_INDEX}
