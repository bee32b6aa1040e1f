"""A misspelt VRAAGBOT_ variable is named at start-up with the closest known one (issue 14, bug 5); a .env
file that is not text is one clear settings error."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings, settings_table, unknown_settings


def test_a_misspelt_variable_is_named_with_the_closest_known_one():
    assert unknown_settings({"VRAAGBOT_MIN_GROUPSIZE": "7"}) == [
        "unknown setting VRAAGBOT_MIN_GROUPSIZE is ignored; did you mean VRAAGBOT_MIN_GROUP_SIZE?"]
    assert unknown_settings({"VRAAGBOT_LOG_LEVL": "DEBUG", "VRAAGBOT_DATABASE": "sqlite:///x.db"}) == [
        "unknown setting VRAAGBOT_DATABASE is ignored; did you mean VRAAGBOT_DATABASE_URL?",
        "unknown setting VRAAGBOT_LOG_LEVL is ignored; did you mean VRAAGBOT_LOG_LEVEL?",
    ]


def test_our_prefix_on_a_platform_variable_points_at_its_real_name():
    assert unknown_settings({"VRAAGBOT_SLACK_BOT_TOKEN": "xoxb-1"}) == [
        "unknown setting VRAAGBOT_SLACK_BOT_TOKEN is ignored; did you mean SLACK_BOT_TOKEN?"]


def test_nothing_close_gets_no_guess_and_the_value_is_never_shown():
    [line] = unknown_settings({"VRAAGBOT_ZZZ": "geheim-1234"})
    assert line == "unknown setting VRAAGBOT_ZZZ is ignored"


def test_known_variables_other_prefixes_and_the_test_suites_own_are_not_warned_about():
    environ = {variable: "x" for variable, _, _ in settings_table()}
    environ |= {"vraagbot_min_group_size": "5",  # names are read case-insensitively
                "PATH": "/bin", "SLACK_BOT_TOKEN": "xoxb-1", "VRAAGBOT_TEST_POSTGRES_URL": "postgresql://x",
                "VRAAGBOT_BENCH_POSTGRES_URL": "postgresql://y"}
    assert unknown_settings(environ) == []


@pytest.mark.parametrize("content", [bytes(range(256)), b"VRAAGBOT_LOG_LEVEL=INFO\n\xff\xfe oops\n"])
def test_a_binary_env_file_is_a_settings_error_naming_the_file(tmp_path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(content)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    [line] = str(raised.value).splitlines()
    assert line.startswith(".env: is not a text file") and "UTF-8" in line, line
