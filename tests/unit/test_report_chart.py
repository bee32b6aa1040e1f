"""The trend chart (nudges.charts), as `vraagbot report` writes it and the monthly post sends it: one
y-axis per panel, both from 0; a hidden week is a labelled grey band, not a bar of 0; the legend clear
of the data; an empty chart says so; the team's language; drawn from the stored payload alone."""

from __future__ import annotations

import io
from datetime import date, timedelta

from matplotlib.patches import Rectangle
from PIL import Image as PILImage

from handlers.messages import Chart, Image, OutgoingMessage
from handlers.models import MessageKind
from nudges.charts import HIDDEN_FACE, ChartWeek, draw, drawn, make_chart, render_png
from nudges.texts.catalog import load_catalog

CATALOG = load_catalog()
FIRST_MONDAY = date(2026, 9, 7)


def weeks(hidden: set[int] = frozenset(), asked: int = 6, n: int = 12) -> list[ChartWeek]:
    out = []
    for i in range(n):
        start = FIRST_MONDAY + timedelta(weeks=i)
        label = f"{start.isocalendar().year}-W{start.isocalendar().week:02d}"
        out.append(ChartWeek(label, start, hidden=True) if i in hidden
                   else ChartWeek(label, start, hidden=False, asked=asked + i, share_werk=0.75, share_confirmed=0.4))
    return out


def chart(locale: str = "nl", **kwargs: object) -> Chart:
    return make_chart(CATALOG, locale, weeks(**kwargs), team="Team Juridische Zaken", min_group_size=5)


def texts_of(figure) -> list[str]:
    found = [t.get_text() for t in figure.texts]
    for axes in figure.axes:
        found += [t.get_text() for t in axes.texts]
    for legend in figure.legends:
        found += [t.get_text() for t in legend.get_texts()]
    return found


def test_a_hidden_week_is_a_labelled_band_and_no_bar():
    figure = draw(chart(hidden={4}))
    counts, shares = figure.axes
    bars = [p for p in counts.patches if isinstance(p, Rectangle) and p.get_facecolor()[:3] != (1.0, 1.0, 1.0)
            and not p.get_hatch()]
    assert len(bars) == 11  # the hidden week has no bar, not even one of height 0
    assert all(abs(bar.get_x() + bar.get_width() / 2 - 4) > 0.5 for bar in bars)
    bands = [p for p in counts.patches + shares.patches if p.get_hatch()]
    assert len(bands) == 2  # through both panels
    assert texts_of(figure).count("verborgen: minder dan 5 mensen") == 2  # in the band and in the legend
    # In the picture: the band's grey at the hidden week's place.
    with PILImage.open(io.BytesIO(render_png(chart(hidden={4})))) as image:
        x_pixel = counts.transData.transform((4, 0))[0]
        column = [image.convert("RGB").getpixel((int(x_pixel) + dx, y)) for dx in (-8, 8) for y in range(60, 300)]
    grey = tuple(int(HIDDEN_FACE[i:i + 2], 16) for i in (1, 3, 5))
    assert column.count(grey) > 100


def test_two_panels_each_with_one_y_axis_from_zero_and_the_legend_clear_of_them():
    figure = draw(chart(hidden={2}))
    figure.canvas.draw()
    assert len(figure.axes) == 2  # no twin axes
    counts, shares = figure.axes
    assert counts.get_ylim()[0] == 0 and shares.get_ylim() == (0, 105)
    assert counts.get_ylim()[1] >= 17  # the highest week (17 questions) fits
    [legend] = figure.legends
    box = legend.get_window_extent()
    for axes in figure.axes:
        assert not box.overlaps(axes.get_window_extent())
    assert [t.get_text() for t in legend.get_texts()] == ["Vragen per week", "label werk",
                                                            "eigen inschatting bevestigd",
                                                            "verborgen: minder dan 5 mensen"]
    assert figure.texts[0].get_text() == "Team Juridische Zaken: vragen per week, de afgelopen 12 weken"


def test_an_empty_chart_says_so_on_a_positive_axis():
    figure = draw(make_chart(CATALOG, "en", [ChartWeek(w.week, w.start, hidden=False) for w in weeks()],
                             team="Team", min_group_size=5))
    counts, _ = figure.axes
    assert counts.get_ylim() == (0, 1)
    assert "No questions in these weeks yet" in texts_of(figure)
    assert not [t for t in texts_of(figure) if t.startswith("hidden")]  # nothing hidden, no hidden label


def test_english_texts_and_dates():
    figure = draw(chart("en", hidden={0}))
    assert "hidden: fewer than 5 people" in texts_of(figure)
    assert figure.texts[0].get_text() == "Team Juridische Zaken: questions per week, the last 12 weeks"
    assert [t.get_text() for t in figure.axes[1].get_xticklabels()][:2] == ["7 Sep", "14 Sep"]
    dutch = draw(chart("nl"))
    assert [t.get_text() for t in dutch.axes[1].get_xticklabels()][:2] == ["7 sep", "14 sep"]


async def test_the_picture_is_drawn_from_the_stored_payload_and_the_same_every_time():
    message = OutgoingMessage(MessageKind.MONTHLY_TEAM, "Het beeld van november.", channel=None, private=False,
                              attachment=chart(hidden={3}))
    payload = message.to_payload()
    assert len(str(payload)) < 5_000  # figures and texts, no picture
    stored = OutgoingMessage.from_payload(payload)
    sent = await drawn(stored)
    assert isinstance(sent.attachment, Image) and sent.attachment.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert sent.attachment.png == render_png(message.attachment)  # a retry draws the same picture
    assert sent.attachment.alt_text.startswith("Team Juridische Zaken")
