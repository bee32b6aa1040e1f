"""Issue 11, findings 8 and 13: the settings of the metrics listener and the read deadlines. Metrics are
off by default and on loopback when on; a token that is empty or short is a wrong setting, never no token."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("METRICS_PORT", "METRICS_HOST", "METRICS_TOKEN", "HTTP_HEADER_SECONDS", "HTTP_BODY_SECONDS"):
        monkeypatch.delenv(f"VRAAGBOT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_by_default_there_are_no_metrics_and_slow_clients_get_15_seconds():
    settings = load_settings()
    assert (settings.metrics_port, settings.metrics_host, settings.metrics_token) == (None, "127.0.0.1", None)
    assert (settings.http_header_seconds, settings.http_body_seconds) == (15, 15)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("METRICS_TOKEN", "", "VRAAGBOT_METRICS_TOKEN: must be 16 characters or more"),
    ("METRICS_TOKEN", "short-secret", "VRAAGBOT_METRICS_TOKEN: must be 16 characters or more"),
    ("METRICS_HOST", " ", "VRAAGBOT_METRICS_HOST: must name an interface"),
    ("METRICS_PORT", "0", "VRAAGBOT_METRICS_PORT: Input should be greater than or equal to 1"),
    ("HTTP_HEADER_SECONDS", "0", "VRAAGBOT_HTTP_HEADER_SECONDS: Input should be greater than 0"),
    ("HTTP_BODY_SECONDS", "-1", "VRAAGBOT_HTTP_BODY_SECONDS: Input should be greater than 0"),
])
def test_wrong_values_are_refused_in_one_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(f"VRAAGBOT_{variable}", value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    [line] = str(error.value).splitlines()
    assert line.startswith(message)
    assert "short-secret" not in line  # a token is never shown, not even a wrong one


def test_the_metrics_token_is_masked_in_logs():
    settings = load_settings(metrics_token="scrape-token-0123456789")
    assert "scrape-token-0123456789" in settings.secret_values()
