"""The team's weekly trend as a picture: `vraagbot report` writes it to a file, the monthly post sends it.

Drawn in two panels one above the other, each with its own y-axis starting at 0: questions per week
(bars), and the share tagged werk and the share that confirmed the asker's own assessment (lines, 0 to
100%). A week with fewer people than the minimum group size is a grey hatched band labelled as hidden,
never a bar of 0 (which would read as "no questions"); a chart without any question says so in its
middle. The legend sits under the panels, clear of the data.

What is drawn is a pure function of a ``handlers.messages.Chart``: the figures per week and the chart's
texts, in the team's language, are put in it when the message is composed, so the outbox stores a few
hundred bytes and every attempt draws the same picture. Drawing uses matplotlib's object API (no pyplot
and its global state), so it may run in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from babel.dates import format_date

from handlers.insights import PRIVACY_FLOOR, WeekFigures
from handlers.messages import Chart, Image, OutgoingMessage
from handlers.ports import Catalog

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIZE = (10.0, 5.0)  # inches at DPI: 1000 x 500 pixels, well inside what Slack and Teams show inline
DPI = 100
BARS, WERK, CONFIRMED = "#9ecae1", "#31a354", "#e6550d"
HIDDEN_FACE, HIDDEN_EDGE = "#eeeeee", "#9e9e9e"
LABELLED_WEEKS = 26  # up to this many weeks every week gets a date and a value; beyond, the axis thins out
TEXT_KEYS = ("title", "questions", "shares", "werk", "confirmed", "hidden", "empty", "week_of")


@dataclass(frozen=True)
class ChartWeek:
    """One week as the chart shows it: aggregates only, and none at all for a hidden week."""

    week: str  # ISO week, 2026-W48
    start: date  # its Monday
    hidden: bool  # fewer people than the minimum group size: no figures
    asked: int = 0
    share_werk: float | None = None  # of the questions asked, tagged werk
    share_confirmed: float | None = None  # of those with an outcome, confirmed the asker's assessment

    def to_payload(self) -> dict[str, object]:
        return {**asdict(self), "start": self.start.isoformat()}

    @classmethod
    def from_payload(cls, data: dict[str, object]) -> ChartWeek:
        return cls(**{**data, "start": date.fromisoformat(str(data["start"]))})  # type: ignore[arg-type]


def chart_week(week: str, start: date, figures: WeekFigures, min_group_size: int) -> ChartWeek:
    """A week without questions is shown (a true 0); one with questions among too few people is hidden."""
    if figures.asked and not figures.shown(min_group_size):
        return ChartWeek(week, start, hidden=True)
    return ChartWeek(week, start, hidden=False, asked=figures.asked, share_werk=figures.share_werk,
                     share_confirmed=figures.share_confirmed)


def chart_texts(catalog: Catalog, locale: str, *, team: str, weeks: int, min_group_size: int) -> dict[str, str]:
    minimum = max(min_group_size, PRIVACY_FLOOR)
    texts = {key: catalog.text(locale, f"chart.{key}", min=minimum) for key in TEXT_KEYS if key != "title"}
    texts["title"] = catalog.text(locale, "chart.title", team=team, count=weeks)
    return texts


def make_chart(catalog: Catalog, locale: str, weeks: Sequence[ChartWeek], *, team: str, min_group_size: int,
               filename: str = "vraagbot.png") -> Chart:
    return Chart(weeks=[w.to_payload() for w in weeks],
                 texts=chart_texts(catalog, locale, team=team, weeks=len(weeks), min_group_size=min_group_size),
                 locale=locale, filename=filename)


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes (SIZE at DPI)."""
    buffer = io.BytesIO()
    draw(chart).savefig(buffer, format="png")
    return buffer.getvalue()


def draw(chart: Chart) -> Figure:
    """The chart as a matplotlib Figure with its own canvas (render_png saves it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    weeks = [ChartWeek.from_payload(w) for w in chart.weeks]
    texts = chart.texts
    nan = float("nan")
    xs = list(range(len(weeks)))
    figure = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    counts, shares = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2], "hspace": 0.12})
    figure.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.2)
    figure.suptitle(texts["title"], fontsize="large")

    for x, week in zip(xs, weeks, strict=True):  # hidden weeks: one band through both panels
        if week.hidden:
            for axes in (counts, shares):
                axes.axvspan(x - 0.45, x + 0.45, facecolor=HIDDEN_FACE, edgecolor=HIDDEN_EDGE, hatch="///",
                             linewidth=0, zorder=0)
            if len(weeks) <= LABELLED_WEEKS:
                counts.text(x, 0.5, texts["hidden"], transform=counts.get_xaxis_transform(), rotation=90,
                            ha="center", va="center", fontsize="x-small", color="#424242", zorder=4,
                            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})

    asked = [0 if w.hidden else w.asked for w in weeks]
    shown = [w for w in weeks if not w.hidden]
    bars = counts.bar([x for x, w in zip(xs, weeks, strict=True) if not w.hidden], [w.asked for w in shown],
                      color=BARS, width=0.7, zorder=2)
    top = max(asked, default=0)
    if len(weeks) <= LABELLED_WEEKS and top:  # a row of zeros under "no questions" says nothing more
        counts.bar_label(bars, fontsize="x-small", padding=2)
    counts.set_ylim(0, max(top * 1.2, 1))
    counts.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    counts.set_ylabel(texts["questions"])
    if top == 0:
        counts.text(0.5, 0.5, texts["empty"], transform=counts.transAxes, ha="center", va="center",
                    fontsize="large", color="#616161")

    def pct(value: float | None, week: ChartWeek) -> float:
        return value * 100 if not week.hidden and value is not None else nan

    shares.plot(xs, [pct(w.share_werk, w) for w in weeks], marker="o", color=WERK, zorder=3)
    shares.plot(xs, [pct(w.share_confirmed, w) for w in weeks], marker="s", color=CONFIRMED, zorder=3)
    shares.set_ylim(0, 105)
    shares.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    shares.set_yticks([0, 50, 100])
    shares.set_ylabel(texts["shares"])

    step = max(1, -(-len(weeks) // LABELLED_WEEKS))
    shares.set_xticks(xs[::step], [format_date(w.start, "d MMM", locale=chart.locale) for w in weeks[::step]],
                      fontsize="small", rotation=0 if len(weeks) <= 13 else 45)
    shares.set_xlim(-0.6, len(weeks) - 0.4)
    shares.set_xlabel(texts["week_of"], fontsize="small")
    for axes in (counts, shares):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#e0e0e0", linewidth=0.6, zorder=1)

    handles = [Patch(facecolor=BARS, label=texts["questions"]),
               Line2D([], [], color=WERK, marker="o", label=texts["werk"]),
               Line2D([], [], color=CONFIRMED, marker="s", label=texts["confirmed"])]
    if any(w.hidden for w in weeks):
        handles.append(Patch(facecolor=HIDDEN_FACE, edgecolor=HIDDEN_EDGE, hatch="///", label=texts["hidden"]))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize="small")
    return figure


def alt_text(chart: Chart) -> str:
    return chart.texts["title"]


async def drawn(message: OutgoingMessage) -> OutgoingMessage:
    """The message with its Chart drawn into an Image, for one send (in a worker thread: drawing takes
    a noticeable moment and must not hold up the event loop). Other messages come back as they are."""
    chart = message.attachment
    if not isinstance(chart, Chart):
        return message
    png = await asyncio.to_thread(render_png, chart)
    return replace(message, attachment=Image(png=png, filename=chart.filename, alt_text=alt_text(chart)))
