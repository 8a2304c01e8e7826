from quxiang.common.testing.plugin import make_test_config
from quxiang.common.testing.service_checks import assert_migrations_round_trip, assert_service_boots
from quxiang.signing.bootstrap import SERVICE


def test_boots_on_the_embedded_default(tmp_path):
    config = make_test_config(SERVICE.name, f"sqlite:///{tmp_path}/db.sqlite", "embedded", tmp_path)
    assert_service_boots(SERVICE, config)
    assert_migrations_round_trip(SERVICE, config)


def test_migrates_on_postgresql(pg_url, tmp_path):
    config = make_test_config(SERVICE.name, pg_url, "embedded", tmp_path)
    assert_migrations_round_trip(SERVICE, config)
