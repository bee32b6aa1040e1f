"""Issue 11, finding 12: the database password never reaches a terminal or a log. A wrong
VRAAGBOT_DATABASE_URL is named in one line with its password masked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("VRAAGBOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.mark.parametrize("url", [
    "mysql://u:s3cret@h/db",  # a scheme we do not support
    "postgresql//u:s3cret@h/db",  # a typo: not a URL at all
    "postgresql://u:s3cret@h:port/db",  # a port that is no number
])
def test_a_wrong_database_url_is_named_without_its_password(monkeypatch, url):
    monkeypatch.setenv("VRAAGBOT_DATABASE_URL", url)
    with pytest.raises(SettingsError) as error:
        load_settings()
    [line] = str(error.value).splitlines()
    assert line.startswith("VRAAGBOT_DATABASE_URL: ")
    assert "s3cret" not in line
    assert "@h" in line  # still says which server was meant


def test_the_command_line_prints_one_line_without_the_password():
    result = CliRunner().invoke(main, ["migrate"], env={"VRAAGBOT_DATABASE_URL": "mysql://u:s3cret@h/db"})
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "vraagbot: wrong setting: VRAAGBOT_DATABASE_URL: must start with sqlite:/// or postgresql:// "
        "(got 'mysql://u:***@h/db')"]
