"""The tables and verdicts of bench.ack_path: ack latency, CPU per request and end to end, each against
the issue 12 targets, with ratios against the bare bolt app measured in the same run."""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.load import SLACK_LIMIT, ms, percentile

if TYPE_CHECKING:
    from bench.ack_path import RateResult, TargetResult

ACK_RATIO_TARGET = 1.5  # ack p99 at most this times the bare app's, at --rates
CPU_RATIO_TARGET = 4.0  # server CPU per request, work included, at most this times the bare app's (PostgreSQL)
E2E_TARGET = 1.0  # seconds: end-to-end p99 for a rate to hold
SCALE_TARGET = 1.6  # two processes hold at least this times the one-process rate


def progress_line(r: RateResult) -> str:
    line = (f"  {r.target:<12} {r.rate:>4}/s  ack p99 {ms(r.ack.p99):>6} ms  max {ms(r.ack.max):>6} ms"
            f"  errors {r.ack.errors}  cpu {r.cpu.server:5.1f} ms/req")
    if r.measured_work:
        line += (f"  e2e p99 {ms(r.e2e_p(99)):>6} ms  lost {r.lost}  doubled {r.doubled}"
                 f"  unanswered {r.unanswered}  drained in {r.drain_seconds:.1f} s"
                 + ("" if r.complete else " (STALLED)"))
    return line


def _bare(results: list[TargetResult]) -> dict[int, RateResult]:
    return {r.rate: r for t in results if t.name == "bare" for r in t.rates}


def _ratio(value: float, base: float | None) -> float:
    return value / base if base and base > 0 and not math.isnan(value) else math.nan


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _rows(results: list[TargetResult]):
    for target in results:
        for r in target.rates:
            yield target, r


def ack_table(results: list[TargetResult]) -> str:
    bare = _bare(results)
    lines = ["Ack latency, ms from the moment each request was due until its answer; ratio = p99 / bare p99 at "
             "the same rate; gen lag = the load generator's worst lateness in starting a request",
             "| target | phase | rate/s | sent | ok | errors | >3 s | p50 | p99 | max | p99 ratio | gen lag |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in _rows(results):
        base = bare.get(r.rate)
        ratio = _ratio(r.ack.p99, base.ack.p99 if base else None)
        lines.append(f"| {r.target} | {r.phase} | {r.rate} | {r.ack.sent} | {r.ack.ok} | {r.ack.errors} | "
                     f"{r.ack.over_limit} | {ms(r.ack.p50)} | {ms(r.ack.p99)} | {ms(r.ack.max)} | {_fmt(ratio)} | "
                     f"{ms(r.lag)} |")
    return "\n".join(lines)


def cpu_table(results: list[TargetResult]) -> str:
    bare = _bare(results)
    lines = ["CPU ms per request. server = the bot's processes (all replicas) from the start of the load until "
             "its work was done (inbox drained, outbox sent), ratio vs bare at the same rate; postgres = the "
             "backends serving this run's database; generator = this process during the load; fake = the fake "
             "Slack Web API; drain = s from the end of the load until the work was done; sweep rates run back to "
             "back, so their CPU counts the load's seconds only",
             "| target | phase | rate/s | server | ratio | postgres | generator | fake | drain s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for _, r in _rows(results):
        base = bare.get(r.rate)
        ratio = _ratio(r.cpu.server, base.cpu.server if base else None)
        postgres = r.cpu.postgres if "postgres" in r.target else math.nan
        load_only = "" if r.worked_off else " (load only)"
        lines.append(f"| {r.target} | {r.phase} | {r.rate} | {r.cpu.server:.2f}{load_only} | "
                     f"{_fmt(ratio) if r.worked_off else '-'} | {_fmt(postgres)} | {r.cpu.generator:.2f} | "
                     f"{r.cpu.fake:.2f} | {_fmt(r.drain_seconds, 1)} |")
    idle = ", ".join(f"{t.name} ({t.phase}) {t.idle_cpu_ms_per_s:.0f}" for t in results)
    lines.append(f"\nIdle server CPU, ms per second (ticks and polls, charged to the requests above too): {idle}")
    return "\n".join(lines)


def e2e_table(results: list[TargetResult]) -> str:
    lines = ["End to end, ms from due until the fake Slack got the answer (asks: the expert's question message; "
             "presses: the response_url answer); last 1 s = p99 of those due in the load's last second (higher "
             "than p99: still growing); reply = thread replies, due until stored; holds = acked in 3 s, nothing "
             "lost, doubled or unanswered, p99 < 1 s",
             "| target | phase | rate/s | acked | lost | doubled | unanswered | resent | p50 | p99 | max | last 1 s "
             "p99 | reply p99 | holds |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in _rows(results):
        if not r.measured_work:
            continue
        stalled = "" if r.complete else " (stalled)"
        lines.append(f"| {r.target} | {r.phase} | {r.rate} | {r.acked} | {r.lost}{stalled} | {r.doubled} | "
                     f"{r.unanswered} | {r.resent} | {ms(r.e2e_p(50))} | {ms(r.e2e_p(99))} | "
                     f"{ms(max(r.e2e, default=math.nan))} | {ms(percentile(r.e2e_last, 99))} | "
                     f"{ms(percentile(r.reply_stored, 99))} | {'yes' if r.holds else 'no'} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ verdicts


def verdicts(results: list[TargetResult], args: Any) -> list[str]:
    bare = _bare(results)
    out = []
    ack_runs = [(t, r) for t, r in _rows(results) if t.phase == "ack" and t.name != "bare"]

    misses = [f"{r.target} {r.rate}/s {_fmt(_ratio(r.ack.p99, bare[r.rate].ack.p99))}x"
              for _, r in ack_runs if r.rate in args.rates and r.rate in bare
              and not _ratio(r.ack.p99, bare[r.rate].ack.p99) <= ACK_RATIO_TARGET]
    met = [f"{r.target} {r.rate}/s {_fmt(_ratio(r.ack.p99, bare[r.rate].ack.p99))}x"
           for _, r in ack_runs if r.rate in args.rates and r.rate in bare
           and _ratio(r.ack.p99, bare[r.rate].ack.p99) <= ACK_RATIO_TARGET]
    out.append(f"1a. Ack p99 within {ACK_RATIO_TARGET}x bare at {', '.join(map(str, args.rates))}/s: "
               + ("MET" if not misses and met else "MISSED") + f" (met: {', '.join(met) or 'none'}; "
               f"missed: {', '.join(misses) or 'none'})")

    worst: dict[str, float] = {}
    failed: dict[str, int] = {}
    for _, r in ack_runs:
        worst[r.target] = max(worst.get(r.target, 0.0), 0.0 if math.isnan(r.ack.max) else r.ack.max)
        failed[r.target] = failed.get(r.target, 0) + r.ack.over_limit + r.ack.errors
    bad = [n for n in worst if worst[n] > SLACK_LIMIT or failed[n]]
    sweep_top = max([*args.rates, *args.sweep], default=0)
    out.append(f"1b. No ack over 3 s (nor an error) at any rate up to {sweep_top}/s: "
               + ("MET" if worst and not bad else "MISSED") + " ("
               + ", ".join(f"{n}: max {ms(worst[n])} ms, {failed[n]} errors or over 3 s" for n in worst) + ")")

    cpu = [(r.rate, _ratio(r.cpu.server, bare[r.rate].cpu.server if r.rate in bare else None))
           for _, r in ack_runs if r.target == "postgres" and r.rate in args.rates]
    cpu_ok = bool(cpu) and all(ratio <= CPU_RATIO_TARGET for _, ratio in cpu)
    out.append(f"2.  Server CPU per request, work included, at most {CPU_RATIO_TARGET}x bare on PostgreSQL: "
               + ("MET" if cpu_ok else "MISSED" if cpu else "not measured") + " ("
               + ", ".join(f"{rate}/s {_fmt(ratio)}x" for rate, ratio in cpu) + ")")

    one = next((t for t in results if t.phase == "e2e" and t.workers == 1), None)
    two = next((t for t in results if t.phase == "e2e" and t.workers == 2), None)
    if one is not None:
        at = next((r for r in one.rates if r.rate == args.e2e_at), None)
        if at is None:
            out.append(f"3a. End to end at {args.e2e_at}/s, one process: not measured")
        else:
            out.append(f"3a. End to end at {args.e2e_at}/s, one process, p99 < 1 s and nothing lost: "
                       + ("MET" if at.holds else "MISSED")
                       + f" (p99 {ms(at.e2e_p(99))} ms, lost {at.lost}, doubled {at.doubled}, "
                         f"unanswered {at.unanswered}, ack errors {at.ack.errors})")
    highest = {t.workers: max((r.rate for r in t.rates if r.holds), default=None) for t in (one, two) if t}
    if highest:
        out.append("3b. Highest tested rate that holds: " + ", ".join(
            f"{n} process{'es' if n > 1 else ''} {f'{rate}/s' if rate else 'none'}" for n, rate in highest.items()))
    if highest.get(1) and 2 in highest:
        scale = (highest[2] or 0) / highest[1]
        out.append(f"3c. Two processes at least {SCALE_TARGET}x one: " + ("MET" if scale >= SCALE_TARGET else "MISSED")
                   + f" ({scale:.2f}x)")
    return out


def machine(load_before: tuple[float, float, float] | None) -> str:
    model = "?"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "?")
    now = os.getloadavg()
    before = f"{load_before[0]:.2f}" if load_before else "?"
    return (f"Machine: {os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}; load average (1 min) {before} at the start, {now[0]:.2f} at the end. "
            "The load generator, the fake Slack, PostgreSQL and the servers share these cores.")


def report(results: list[TargetResult], args: Any, elapsed: float, load_before=None) -> str:
    logs = [f"{t.name} ({t.phase}) log: {t.log}" for t in results]
    notes = [f"note ({t.name}): {note}" for t in results for note in dict.fromkeys(t.notes)]
    parts = [*notes, *logs, "", machine(load_before), "", ack_table(results), "", cpu_table(results), "",
             e2e_table(results), "", *verdicts(results, args),
             f"\n(run took {elapsed:.0f} s; ack phase {args.seconds:g} s per rate, e2e phase {args.e2e_seconds:g} s "
             "per rate; lost = acked but never stored, found missing when nothing moved for 10 s)"]
    if args.profile:
        parts.append(f"py-spy profiles in {args.profile}; summary: "
                     f"python -m bench.profile_summary {args.profile}/*.txt")
    return "\n".join(parts)
