"""Sentences with a count read right for one, for several and (where it can happen) for none."""

from __future__ import annotations

from datetime import date

from handlers.insights import WeekFigures
from handlers.weeks import week_starting
from nudges.texts.catalog import load_catalog
from nudges.weekly import TeamWeek, compose_team

CATALOG = load_catalog()
WEEK = week_starting(date(2026, 11, 23), "Europe/Amsterdam")


def team_week(names: list[str], *, asked: int = 6, confirmed: int = 0) -> TeamWeek:
    figures = WeekFigures(asked=asked, werk=asked, with_outcome=asked, confirmed=confirmed, people=6,
                          answered=asked, answerers=5, short_replies=0)
    return TeamWeek(WEEK, figures, [], names)


def test_one_name_is_thanked_with_a_singular_verb():
    text = compose_team(CATALOG, "nl", 0, team_week(["Lotte"]), 5)
    assert "Lotte, die afgelopen week vragen van collega's beantwoordde." in text
    assert "beantwoordden" not in text


def test_two_names_are_thanked_with_a_plural_verb():
    text = compose_team(CATALOG, "nl", 0, team_week(["Anna", "Lotte"]), 5)
    assert "Anna en Lotte, die afgelopen week vragen van collega's beantwoordden." in text


def test_no_confirmed_question_is_said_without_a_zero():
    for lang in ("nl", "en"):
        text = compose_team(CATALOG, lang, 0, team_week(["Anna"], confirmed=0), 5)
        assert " 0 " not in text and "0%" not in text.replace("100%", "")
