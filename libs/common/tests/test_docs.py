from pathlib import Path

from quxiang.common.config import describe

ROOT = Path(__file__).resolve().parents[3]


def test_the_configuration_page_is_current():
    """docs/configuration.md carries the generated table; regenerate it when a setting changes."""
    assert describe() in (ROOT / "docs" / "configuration.md").read_text()
