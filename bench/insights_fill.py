"""Bulk data for the insights benchmark, written with INSERT ... SELECT generate_series (seconds,
not the ORM row by row). Shapes follow what the bot stores:

- ``teams`` Slack workspaces, ``people`` people spread evenly over them;
- ``questions`` questions asked uniformly over the two years before ``end``, each within one team
  (asker and expert are two different members); 85% answered within eight hours, 45% with an
  outcome (60% of those confirmed), 70% tagged werk; texts older than 90 days already redacted
  (retention, the default);
- one reply per answered question, 5% of them curt, each with a curt_detected signal; 1% of the
  answered questions also reported as curt by the asker and 3% with a confirmation-only signal;
- one team channel with a weekly schedule per team.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

TOPICS = "ARRAY['vpn','kassa','rooster','planning','excel','printer','contract','budget','klant','offerte']"

STEPS: list[tuple[str, str]] = [
    ("teams", """
        INSERT INTO workspaces (id, platform, external_id, name)
        SELECT w, 'slack', 'T' || lpad(w::text, 5, '0'), 'Team ' || w FROM generate_series(1, $1::int) w"""),
    ("people", """
        INSERT INTO people (id, workspace_id, external_id, handle, display_name, locale, time_zone,
                            recognition_opt_out, unreachable, created_at)
        SELECT p, (p - 1) % $1::int + 1, 'U' || lpad(p::text, 7, '0'), 'person' || p, 'Person ' || p,
               CASE WHEN p % 4 = 0 THEN 'en' ELSE 'nl' END, 'Europe/Amsterdam', p % 20 = 0, false,
               $3::timestamptz - interval '800 days'
        FROM generate_series(1, $2::int) p"""),
    ("questions", f"""
        WITH g AS (
            SELECT i, 1 + floor(random() * $1::int)::int AS w,
                   floor(random() * ($2::int / $1::int))::int AS a,
                   floor(random() * ($2::int / $1::int - 1))::int AS e,
                   $4::timestamptz - random() * interval '730 days' AS asked,
                   random() AS r1, random() AS r2, random() AS r3
            FROM generate_series(1, $3::int) i),
        q AS (
            SELECT *, CASE WHEN r1 < 0.85 THEN asked + r2 * interval '8 hours' END AS replied,
                   CASE WHEN asked < $4::timestamptz - interval '90 days'
                        THEN asked + interval '90 days' END AS redacted
            FROM g)
        INSERT INTO questions (workspace_id, asker_id, expert_id, topic, text, first_assessment, kind, urgent, tag,
                               tag_source, tagged_at, status, asked_at, deliver_after, delivered_at, interrupted_focus,
                               first_reply_at, outcome, outcome_at, thread_ref, text_redacted_at)
        SELECT w, w + $1::int * a, w + $1::int * ((a + 1 + e) % ($2::int / $1::int)),
               ({TOPICS})[1 + i % 10],
               CASE WHEN redacted IS NULL THEN 'Hoe zit het met vraag ' || i || '?' END,
               CASE WHEN redacted IS NULL THEN 'Ik denk van wel' END,
               CASE WHEN r3 < 0.5 THEN 'doubt' ELSE 'complex' END, r2 < 0.05,
               CASE WHEN r2 < 0.7 THEN 'werk' ELSE 'gunst' END, 'default', asked,
               CASE WHEN r1 < 0.45 THEN 'closed' WHEN r1 < 0.85 THEN 'answered' ELSE 'delivered' END,
               asked, NULL, asked, r3 < 0.1,
               replied,
               CASE WHEN r1 < 0.45 THEN CASE WHEN r3 < 0.6 THEN 'confirmed' ELSE 'new_info' END END,
               CASE WHEN r1 < 0.45 THEN replied + interval '1 hour' END,
               'C' || w || ':' || i, redacted
        FROM q"""),
    ("replies", """
        INSERT INTO replies (question_id, author_id, text, created_at, reply_seconds, curt_score, curt, curt_reasons,
                             text_redacted_at)
        SELECT id, expert_id, CASE WHEN text_redacted_at IS NULL THEN 'Ja, dat klopt.' END, first_reply_at,
               extract(epoch FROM first_reply_at - asked_at), (id % 100) / 100.0, id % 20 = 0,
               CASE WHEN id % 20 = 0 THEN '["short"]' ELSE '[]' END::json, text_redacted_at
        FROM questions WHERE first_reply_at IS NOT NULL"""),
    ("signals", """
        INSERT INTO signals (question_id, subject_id, reporter_id, kind, created_at, details)
        SELECT id, expert_id, NULL, 'curt_detected', first_reply_at, '{}'::json
        FROM questions WHERE first_reply_at IS NOT NULL AND id % 20 = 0
        UNION ALL
        SELECT id, expert_id, asker_id, 'curt_reported', first_reply_at + interval '2 hours', '{}'::json
        FROM questions WHERE first_reply_at IS NOT NULL AND id % 100 = 7
        UNION ALL
        SELECT id, expert_id, NULL, 'confirmation_only', first_reply_at, '{}'::json
        FROM questions WHERE first_reply_at IS NOT NULL AND id % 33 = 5"""),
    ("schedules", """
        INSERT INTO team_schedules (workspace_id, channel, weekday, hour, minute, time_zone, language, enabled,
                                    changed_by, created_at, updated_at)
        SELECT w, 'slack:C' || lpad(w::text, 5, '0'), 0, 9, 0, 'Europe/Amsterdam', 'nl', true, w, $2::timestamptz,
               $2::timestamptz
        FROM generate_series(1, $1::int) w"""),
]


async def fill(connection: asyncpg.Connection, *, teams: int, people: int, questions: int, end: datetime,
               only_people: bool = False) -> dict[str, float]:
    """Runs the steps (only teams, people and schedules with ``only_people``); returns seconds per step."""
    import time

    arguments = {
        "teams": (teams,), "people": (teams, people, end), "questions": (teams, people, questions, end),
        "replies": (), "signals": (), "schedules": (teams, end),
    }
    seconds: dict[str, float] = {}
    for name, sql in STEPS:
        if only_people and name not in ("teams", "people", "schedules"):
            continue
        start = time.perf_counter()
        await connection.execute(sql, *arguments[name])
        seconds[name] = time.perf_counter() - start
    for table in ("workspaces", "people", "questions", "replies", "signals", "team_schedules"):
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
    start = time.perf_counter()
    await connection.execute("VACUUM ANALYZE")
    seconds["analyze"] = time.perf_counter() - start
    return seconds
