"""
Goal-attainment progress charts, drawn on the server as inline SVG.

One chart per objective: the coachee's self-assessment and the sponsor's
observation on the −2..+2 scale, at kickoff (baseline), at each sponsor report
and at closing. The same markup is shown in the portals and printed by
WeasyPrint in the synthesis PDF, so it uses SVG presentation attributes only:
no script, no external resource, nothing taken from the page's stylesheet.

The series are told apart without colour (a solid line with filled circles
for the coachee, a dashed line with hollow squares for the sponsor), and the
chart's ``<desc>`` spells the data out for screen readers.
"""

import numbers
from dataclasses import dataclass
from uuid import uuid4

from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import SCORE_MAX, SCORE_MIN, SponsorReport

RATERS = ("coachee", "sponsor")

# Geometry, in viewBox units (1 unit = 1 CSS px at the chart's maximum width).
WIDTH = 640
PLOT_LEFT = 52  # the y labels sit in the gutter on the left
PLOT_RIGHT = 536  # the "expected outcome" label sits in the gutter on the right
PLOT_TOP = 58  # the legend sits above
ROW = 40  # distance between two score levels
PLOT_BOTTOM = PLOT_TOP + ROW * (SCORE_MAX - SCORE_MIN)
AXIS_Y = PLOT_BOTTOM + 20
HEIGHT = AXIS_Y + 40
FONT_SIZE = 12
LEGEND_Y = 20
RADIUS = 5  # the coachee's filled circle fits inside the sponsor's square when they coincide
SQUARE = 14
CHAR_WIDTH = 0.6  # a generous average glyph width for sans-serif, in em

STYLE = {
    "coachee": {"color": "#1d4e89", "dasharray": "", "shape": "circle"},
    "sponsor": {"color": "#a94a0c", "dasharray": "7 4", "shape": "square"},
}


@dataclass(frozen=True)
class Milestone:
    """A point on the chart's x axis: kickoff, one sponsor report, or closing."""

    key: str  # "baseline", "report-<report id>" or "closing"
    label: str  # short, shown under the x axis: "Kickoff", "Report 1", "Closing"
    title: str = ""  # longer, shown on hover: "Report 1, period ending 31 March 2026"


def milestones_for(reports, *, closing: bool) -> list[Milestone]:
    """
    The milestones of an engagement: kickoff, one per report (``reports`` are
    given in order of ``period_end``), then closing when ``closing`` is true.
    """
    milestones = [Milestone("baseline", _("Kickoff"), _("Kickoff (baseline)"))]
    for number, report in enumerate(reports, start=1):
        label = _("Report %(number)d") % {"number": number}
        period_end = getattr(report, "period_end", None)
        title = label
        if period_end is not None:
            title = _("%(report)s, period ending %(date)s") % {
                "report": label,
                "date": date_format(period_end),
            }
        milestones.append(Milestone(f"report-{report.pk}", label, title))
    if closing:
        milestones.append(Milestone("closing", _("Closing"), _("Closing review")))
    return milestones


def objective_series(scores, milestones) -> dict[str, list[int | None]]:
    """
    The scores of one objective as one list per rater, aligned with
    ``milestones`` (``None`` where there is no score). When a rater has several
    scores at one milestone, the latest by ``scored_at`` wins. Scores at a
    milestone not in ``milestones``, by an unknown rater or out of the scale
    are left out: the caller passes only what the viewer may see.
    """
    position = {milestone.key: index for index, milestone in enumerate(milestones)}
    chosen = {}  # (rater, index) -> score
    for score in scores:
        key = _milestone_key(score)
        rater = getattr(score, "rater", None)
        if key not in position or rater not in RATERS or _valid(score) is None:
            continue
        slot = (rater, position[key])
        if slot not in chosen or _is_later(score, chosen[slot]):
            chosen[slot] = score
    series = {rater: [None] * len(milestones) for rater in RATERS}
    for (rater, index), score in chosen.items():
        series[rater][index] = _valid(score)
    return series


def progress_chart(
    *,
    title: str,
    milestones: list[Milestone],
    series: dict[str, list[int | None]],
    key: int | str | None = None,
) -> SafeString:
    """
    An inline ``<svg>`` of the ``series`` (as built by ``objective_series``).
    Its ids (for the title and description) come from ``key``, unique on the
    page (an objective's id): the same chart is the same markup, so a PDF
    made of it can be reused (``pdf.reused_pdf``). Without one, they are random.
    """
    milestones = list(milestones)
    series = series or {}
    values = {rater: _aligned(series.get(rater), len(milestones)) for rater in RATERS}
    labels = _rater_labels()
    band = (PLOT_RIGHT - PLOT_LEFT) / max(len(milestones), 1)
    xs = [PLOT_LEFT + band * (index + 0.5) for index in range(len(milestones))]
    chart_id = f"progress-chart-{uuid4().hex[:12] if key is None else key}"

    longest = max((len(milestone.label) for milestone in milestones), default=1)
    tick_font = max(8.0, min(FONT_SIZE, (band - 6) / (longest * CHAR_WIDTH)))
    ticks = [
        {"x": _n(x), "label": milestone.label, "title": milestone.title or milestone.label}
        for x, milestone in zip(xs, milestones, strict=True)
    ]
    levels = [
        {
            "y": _n(_y(level)),
            "label_y": _n(_y(level) + 4),
            "label": _signed(level),
            "zero": not level,
        }
        for level in range(SCORE_MAX, SCORE_MIN - 1, -1)
    ]

    drawn = []
    for rater in RATERS:
        points = [
            {
                "x": _n(x),
                "y": _n(_y(value)),
                "corner_x": _n(x - SQUARE / 2),
                "corner_y": _n(_y(value) - SQUARE / 2),
                "title": _("%(series)s, %(milestone)s: %(score)s")
                % {"series": labels[rater], "milestone": milestone.label, "score": _signed(value)},
            }
            for x, value, milestone in zip(xs, values[rater], milestones, strict=True)
            if value is not None
        ]
        if points:
            drawn.append(
                {
                    "rater": rater,
                    "paths": _paths(xs, values[rater]),
                    "points": points,
                    **STYLE[rater],
                }
            )

    legend, x = [], float(PLOT_LEFT)
    for rater in RATERS:
        legend.append(
            {
                "label": labels[rater],
                **STYLE[rater],
                "x": _n(x),
                "mid": _n(x + 14),
                "end": _n(x + 28),
                "text_x": _n(x + 36),
                "corner_x": _n(x + 14 - SQUARE / 2),
                "corner_y": _n(LEGEND_Y - SQUARE / 2),
            }
        )
        x += 36 + _text_width(labels[rater], FONT_SIZE) + 28

    context = {
        "id": chart_id,
        "title": title,
        "desc": _description(milestones, values, labels),
        "width": WIDTH,
        "legend_y": LEGEND_Y,
        "legend_text_y": LEGEND_Y + 4,
        "radius": RADIUS,
        "square": SQUARE,
        "height": HEIGHT,
        "plot_left": PLOT_LEFT,
        "plot_right": PLOT_RIGHT,
        "y_label_x": PLOT_LEFT - 14,
        "axis_y": AXIS_Y,
        "tick_end": AXIS_Y + 5,
        "tick_label_y": _n(AXIS_Y + 8 + tick_font),
        "tick_font": _n(tick_font),
        "levels": levels,
        "ticks": ticks,
        "expected": _expected_label(),
        "legend": legend,
        "series": drawn,
        "empty": _("No score yet") if not drawn else "",
        "empty_x": _n((PLOT_LEFT + PLOT_RIGHT) / 2),
        "empty_y": _n((_y(1) + _y(0)) / 2 + 5),
    }
    return mark_safe(_svg(context))


def _svg(c):
    """
    The markup of one chart from ``progress_chart``'s figures, every text
    escaped. Built in Python rather than with a template: a page draws one per
    objective. Presentation attributes only, so that the same markup renders
    in browsers and in WeasyPrint (no ``style``, which the CSP forbids).
    """
    e = conditional_escape
    cid, width, height = c["id"], c["width"], c["height"]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'class="progress-chart" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'font-family="sans-serif" font-size="12">\n'
        f'  <title id="{cid}-title">{e(c["title"])}</title>\n'
        f'  <desc id="{cid}-desc">{e(c["desc"])}</desc>\n'
        f'  <rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>\n'
        f'  <g data-part="legend">'
    ]
    legend_y, radius, square = c["legend_y"], c["radius"], c["square"]
    for entry in c["legend"]:
        color = entry["color"]
        dash = f' stroke-dasharray="{e(entry["dasharray"])}"' if entry["dasharray"] else ""
        if entry["shape"] == "circle":
            marker = (
                f'<circle cx="{entry["mid"]}" cy="{legend_y}" r="{radius}" fill="{color}" '
                f'stroke="#ffffff" stroke-width="1.5"/>'
            )
        else:
            marker = (
                f'<rect x="{entry["corner_x"]}" y="{entry["corner_y"]}" width="{square}" '
                f'height="{square}" fill="#ffffff" stroke="{color}" stroke-width="2"/>'
            )
        out.append(
            f'\n    <line x1="{entry["x"]}" y1="{legend_y}" x2="{entry["end"]}" y2="{legend_y}" '
            f'stroke="{color}" stroke-width="2.5"{dash}/>\n'
            f"    {marker}\n"
            f'    <text x="{entry["text_x"]}" y="{c["legend_text_y"]}" fill="#1f2933">'
            f"{e(entry['label'])}</text>"
        )
    out.append('\n  </g>\n  <g data-part="y-axis">')
    plot_left, plot_right = c["plot_left"], c["plot_right"]
    for level in c["levels"]:
        if level["zero"]:
            line, text = (
                ' stroke="#3d4852" stroke-width="1.5"',
                ' fill="#1f2933" font-weight="bold"',
            )
        else:
            line, text = ' stroke="#dde2e6" stroke-width="1"', ' fill="#52606d"'
        out.append(
            f'\n    <line x1="{plot_left}" y1="{level["y"]}" x2="{plot_right}" y2="{level["y"]}"'
            f"{line}/>\n"
            f'    <text x="{c["y_label_x"]}" y="{level["label_y"]}" text-anchor="end"{text}>'
            f"{e(level['label'])}</text>"
        )
    expected = c["expected"]
    out.append(
        f'\n    <text x="{expected["x"]}" fill="#3d4852" font-size="11" font-style="italic">'
    )
    out.extend(
        f'<tspan x="{expected["x"]}" y="{line["y"]}">{e(line["text"])}</tspan>'
        for line in expected["lines"]
    )
    axis_y = c["axis_y"]
    out.append(
        f'</text>\n  </g>\n  <g data-part="x-axis">\n'
        f'    <line x1="{plot_left}" y1="{axis_y}" x2="{plot_right}" y2="{axis_y}" '
        f'stroke="#7b8794" stroke-width="1"/>'
    )
    for tick in c["ticks"]:
        out.append(
            f"\n    <g><title>{e(tick['title'])}</title>\n"
            f'      <line x1="{tick["x"]}" y1="{axis_y}" x2="{tick["x"]}" y2="{c["tick_end"]}" '
            f'stroke="#7b8794" stroke-width="1"/>\n'
            f'      <text x="{tick["x"]}" y="{c["tick_label_y"]}" text-anchor="middle" '
            f'fill="#3d4852" font-size="{c["tick_font"]}">{e(tick["label"])}</text>\n'
            f"    </g>"
        )
    out.append("\n  </g>")
    if c["empty"]:
        out.append(
            f'\n  <text x="{c["empty_x"]}" y="{c["empty_y"]}" text-anchor="middle" '
            f'fill="#52606d" font-size="13" font-style="italic">{e(c["empty"])}</text>'
        )
    out.append(
        '\n  <g data-part="lines" fill="none" stroke-width="2.5" stroke-linejoin="round" '
        'stroke-linecap="round">'
    )
    for line in c["series"]:
        dash = (
            f' stroke-dasharray="{e(line["dasharray"])}" stroke-linecap="butt"'
            if line["dasharray"]
            else ""
        )
        out.extend(
            f'\n    <path data-series="{line["rater"]}" d="{path}" stroke="{line["color"]}"{dash}/>'
            for path in line["paths"]
        )
    out.append('\n  </g>\n  <g data-part="markers">')
    for line in reversed(c["series"]):
        rater, color = line["rater"], line["color"]
        for point in line["points"]:
            title = e(point["title"])
            if line["shape"] == "circle":
                out.append(
                    f'\n    <circle data-series="{rater}" cx="{point["x"]}" cy="{point["y"]}" '
                    f'r="{radius}" fill="{color}" stroke="#ffffff" stroke-width="1.5">'
                    f"<title>{title}</title></circle>"
                )
            else:
                out.append(
                    f'\n    <rect data-series="{rater}" x="{point["corner_x"]}" '
                    f'y="{point["corner_y"]}" width="{square}" height="{square}" fill="#ffffff" '
                    f'stroke="{color}" stroke-width="2"><title>{title}</title></rect>'
                )
    out.append("\n  </g>\n</svg>")
    return "".join(out)


def _milestone_key(score):
    milestone = getattr(score, "milestone", None)
    if milestone == "report":
        report_id = getattr(score, "report_id", None)
        return None if report_id is None else f"report-{report_id}"
    return milestone


def _valid(value):
    """``value`` (or ``value.score``) as an int on the scale, else None."""
    value = getattr(value, "score", value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value) if SCORE_MIN <= value <= SCORE_MAX else None


def _is_later(score, than):
    """True when ``score`` was given after ``than`` (or at the same time, or undated)."""
    try:
        return score.scored_at >= than.scored_at
    except (AttributeError, TypeError):
        return True


def _aligned(values, length):
    values = list(values or [])[:length]
    return [_valid(value) for value in values] + [None] * (length - len(values))


def _rater_labels():
    return {"coachee": _("Coachee (self-assessment)"), "sponsor": _("Sponsor (observed)")}


def _y(level):
    return PLOT_TOP + (SCORE_MAX - level) * ROW


def _n(number):
    """A coordinate as text, never localized (an SVG wants "12.5", not "12,5")."""
    return f"{number:.1f}".removesuffix(".0")


def _signed(score):
    """+2, +1, 0, −1, −2: with a real minus sign."""
    if score > 0:
        return f"+{score}"
    return f"\N{MINUS SIGN}{-score}" if score < 0 else "0"


def _text_width(text, font_size):
    return len(text) * font_size * CHAR_WIDTH


def _paths(xs, values):
    """One path per run of consecutive known scores: a missing score breaks the line."""
    paths, run = [], []
    for x, value in [*zip(xs, values, strict=True), (None, None)]:
        if value is None:
            if len(run) > 1:
                paths.append(
                    " ".join(f"{'L' if i else 'M'}{px} {py}" for i, (px, py) in enumerate(run))
                )
            run = []
        else:
            run.append((_n(x), _n(_y(value))))
    return paths


def _expected_label():
    """'Expected outcome' in the right gutter, on as many short lines as it needs."""
    gutter = (WIDTH - PLOT_RIGHT - 14) / (11 * CHAR_WIDTH)
    lines = []
    for word in _("Expected outcome").split():
        if lines and len(lines[-1]) + 1 + len(word) <= gutter:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    top = _y(0) + 4 - 13 * (len(lines) - 1) / 2
    return {
        "x": PLOT_RIGHT + 10,
        "lines": [{"text": line, "y": _n(top + 13 * index)} for index, line in enumerate(lines)],
    }


def _description(milestones, values, labels):
    parts = [_("Goal-attainment scale from −2 to +2, 0 being the expected outcome.")]
    if not any(value is not None for rater in RATERS for value in values[rater]):
        parts.append(_("No score yet."))
        return " ".join(parts)
    for rater in RATERS:
        if all(value is None for value in values[rater]):
            parts.append(_("%(series)s: no score yet.") % {"series": labels[rater]})
            continue
        scores = ", ".join(
            _("%(milestone)s: %(score)s")
            % {
                "milestone": milestone.label,
                "score": _("no score") if value is None else _signed(value),
            }
            for milestone, value in zip(milestones, values[rater], strict=True)
        )
        parts.append(_("%(series)s — %(scores)s.") % {"series": labels[rater], "scores": scores})
    return " ".join(parts)


@dataclass(frozen=True)
class ObjectiveChart:
    objective: object
    svg: SafeString


def objective_charts(objectives, reports, *, closing=False) -> list[ObjectiveChart]:
    """
    One chart per objective over the milestones: the baseline, each released
    report of ``reports`` (in period order) and, with ``closing``, the closing
    review. Each objective's prefetched ``scores`` must already be the ones
    the viewer may see (``selectors.objectives_for``).
    """
    released = sorted(
        (r for r in reports if r.status == SponsorReport.Status.RELEASED),
        key=lambda r: (r.period_end, r.pk),
    )
    milestones = milestones_for(released, closing=closing)
    return [
        ObjectiveChart(
            objective=objective,
            svg=progress_chart(
                title=objective.title,
                milestones=milestones,
                series=objective_series(objective.scores.all(), milestones),
                key=objective.pk,
            ),
        )
        for objective in objectives
    ]
