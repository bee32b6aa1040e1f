from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "DEFAULT_LANGUAGE", "DEFAULT_TIME_ZONE", "MIN_GROUP_SIZE", "TEXT_RETENTION_DAYS",
                 "OUTBOX_TICK_SECONDS", "LOG_LEVEL"):
        monkeypatch.delenv(f"VRAAGBOT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults():
    settings = load_settings()
    assert settings.database_url == "sqlite:///vraagbot.db"
    assert (settings.default_language, settings.default_time_zone) == ("nl", "Europe/Amsterdam")
    assert settings.min_group_size == 5 and settings.text_retention_days == 90


def test_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("VRAAGBOT_DEFAULT_LANGUAGE=en\nVRAAGBOT_MIN_GROUP_SIZE=8\n")
    settings = load_settings()
    assert (settings.default_language, settings.min_group_size) == ("en", 8)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MIN_GROUP_SIZE", "4", "VRAAGBOT_MIN_GROUP_SIZE: must be at least 5"),
        ("MIN_GROUP_SIZE", "vijf", "VRAAGBOT_MIN_GROUP_SIZE: Input should be a valid integer"),
        ("DEFAULT_LANGUAGE", "de", "VRAAGBOT_DEFAULT_LANGUAGE: must be nl or en"),
        ("DEFAULT_TIME_ZONE", "Mars/Olympus", "VRAAGBOT_DEFAULT_TIME_ZONE: must be an IANA time zone"),
        ("TEXT_RETENTION_DAYS", "0", "VRAAGBOT_TEXT_RETENTION_DAYS: must be a whole number of days"),
        ("DATABASE_URL", "mysql://x", "VRAAGBOT_DATABASE_URL: must start with sqlite:/// or postgresql://"),
        ("LOG_LEVEL", "loud", "VRAAGBOT_LOG_LEVEL: must be DEBUG"),
    ],
)
def test_wrong_values_name_the_variable_and_what_it_accepts(monkeypatch, variable, value, message):
    monkeypatch.setenv(f"VRAAGBOT_{variable}", value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    [line] = str(error.value).splitlines()
    assert line.startswith(message)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MICROSOFT_APP_ID": "app"}, "MICROSOFT_APP_PASSWORD: must be set when MICROSOFT_APP_ID is"),
        ({"MICROSOFT_APP_ID": "app", "MICROSOFT_APP_PASSWORD": "pw", "MICROSOFT_APP_TYPE": "SingleTenant"},
         "MICROSOFT_APP_TENANT_ID: must be set for a SingleTenant app"),
        ({"MICROSOFT_APP_TYPE": "Everyone"}, "MICROSOFT_APP_TYPE: must be MultiTenant, SingleTenant"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN: must be a bot token"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET: must be set"),
    ],
)
def test_platform_credentials_are_checked_together(monkeypatch, env, message):
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TYPE", "MICROSOFT_APP_TENANT_ID",
                 "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith(message)
    assert "pw" not in str(error.value)  # secrets never shown


def test_readme_documents_every_setting():
    from pathlib import Path

    from bot.settings import settings_table

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [variable for variable, _, _ in settings_table() if f"| `{variable}` |" not in readme]
    assert missing == []


SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")


@pytest.fixture
def slack_env(monkeypatch):
    for name in SLACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


@pytest.mark.parametrize(("env", "message"), [
    # Set but empty never means "off": an empty signing secret would let anyone sign a request.
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": " \t "}, "SLACK_SIGNING_SECRET: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": ""},
     "SLACK_SIGNING_SECRET: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "  ", "SLACK_SIGNING_SECRET": "s"},
     "SLACK_APP_TOKEN: must not be empty"),
    ({"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN: must not be empty"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET: must be set when SLACK_BOT_TOKEN is"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN: must be an app-level token"),
])
def test_an_empty_or_missing_slack_secret_is_a_wrong_setting(slack_env, env, message):
    slack_env(**env)
    with pytest.raises(SettingsError) as error:
        load_settings()
    [line] = str(error.value).splitlines()
    assert line.startswith(message)
    assert "xoxb-1" not in line  # secrets never shown


def test_http_mode_needs_the_signing_secret_and_socket_mode_may_do_without(slack_env):
    slack_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s3cret")
    http = load_settings()
    assert http.slack_enabled and not http.slack_socket_mode
    slack_env(SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN="xapp-1")
    with pytest.raises(SettingsError):
        load_settings()  # an empty secret stays wrong in Socket Mode too
    slack_env(SLACK_SIGNING_SECRET="s3cret")
    assert load_settings().slack_socket_mode


def test_socket_mode_without_a_secret_checks_http_requests_with_a_random_one(slack_env):
    from bot.slack.platform import signing_secret

    slack_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1")
    settings = load_settings()
    assert settings.slack_socket_mode and settings.slack_signing_secret is None
    first, second = signing_secret(settings), signing_secret(settings)
    assert len(first) >= 32 and first != second
