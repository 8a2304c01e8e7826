import pytest

from quxiang.common.config import SETTINGS, ConfigError, describe, load_config


def test_defaults_are_the_embedded_mode(tmp_path):
    config = load_config("signing", {"QX_DATA_DIR": str(tmp_path)})
    assert config.embedded_bus
    assert config.database_url_for("signing") == f"sqlite:///{tmp_path}/signing.db"
    assert config.database_url_for("sync-gateway") == f"sqlite:///{tmp_path}/sync_gateway.db"
    assert config.bus_url() == f"sqlite:///{tmp_path}/bus.db"
    assert config.consumer_retry_delays == (1.0, 5.0, 30.0, 120.0)


def test_template_and_explicit_database_urls():
    config = load_config("records", {
        "QX_DATABASE_URL_TEMPLATE": "postgresql+psycopg://postgres@db/qx_{service}",
        "QX_DATABASE_URL": "postgresql+psycopg://postgres@db/own",
        "QX_BROKER_URL": "amqp://guest:guest@mq:5672/qx",
    })
    assert config.database_url_for("records") == "postgresql+psycopg://postgres@db/own"
    assert config.database_url_for("sync-gateway") == "postgresql+psycopg://postgres@db/qx_sync_gateway"
    assert not config.embedded_bus


@pytest.mark.parametrize(("env", "named"), [
    ({"QX_RELAY_BATCH": "many"}, "QX_RELAY_BATCH"),
    ({"QX_RELAY_BATCH": "0"}, "QX_RELAY_BATCH"),
    ({"QX_LOG_JSON": "perhaps"}, "QX_LOG_JSON"),
    ({"QX_CONSUMER_RETRY_DELAYS": ""}, "QX_CONSUMER_RETRY_DELAYS"),
    ({"QX_DATABASE_URL_TEMPLATE": "postgresql://db/qx"}, "QX_DATABASE_URL_TEMPLATE"),
    ({"QX_BROKER_URL": "redis://localhost"}, "QX_BROKER_URL"),
])
def test_a_bad_value_names_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load_config("x", env)


def test_every_setting_is_documented():
    table = describe()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in table and setting.doc


def test_the_jwks_default_follows_the_port_make_run_listens_on():
    from quxiang.common.config import load_config

    assert load_config("x", {"QX_HTTP_PORT": "8637"}).jwks_url == \
        "http://127.0.0.1:8637/api/accounts/.well-known/jwks.json"
    assert load_config("x", {}).jwks_url.startswith("http://127.0.0.1:8000/")
    given = "https://accounts.example/.well-known/jwks.json"
    assert load_config("x", {"QX_HTTP_PORT": "8637", "QX_JWKS_URL": given}).jwks_url == given
