"""Progress charts: scores placed on their milestones and drawn as inline SVG."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from engagements.charts import Milestone, milestones_for, objective_series, progress_chart

SVG = "{http://www.w3.org/2000/svg}"
MINUS = "\N{MINUS SIGN}"
KICKOFF = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
REPORTS = [
    SimpleNamespace(pk=31, period_end=date(2026, 3, 31)),
    SimpleNamespace(pk=32, period_end=date(2026, 6, 30)),
]


@pytest.fixture(autouse=True)
def english():
    # The source strings: the French catalogue is filled in separately.
    with translation.override("en"):
        yield


def score(milestone, rater, value, *, report_id=None, days=0):
    return SimpleNamespace(
        milestone=milestone,
        report_id=report_id,
        rater=rater,
        score=value,
        scored_at=KICKOFF + timedelta(days=days),
    )


def milestones(*, closing=True):
    return milestones_for(REPORTS, closing=closing)


def chart(coachee, sponsor, *, title="Delegate more", closing=True):
    return progress_chart(
        title=title,
        milestones=milestones(closing=closing),
        series={"coachee": coachee, "sponsor": sponsor},
    )


def parse(svg):
    return ET.fromstring(str(svg))


def lines_of(root, rater):
    return root.findall(f".//{SVG}path[@data-series='{rater}']")


def markers_of(root, rater):
    return [
        element
        for element in root.iter()
        if element.tag in (f"{SVG}circle", f"{SVG}rect") and element.get("data-series") == rater
    ]


def text_of(root):
    return " ".join(" ".join(element.itertext()) for element in root.iter(f"{SVG}text"))


def test_milestones_are_kickoff_then_each_report_in_order_then_closing():
    result = milestones()

    assert [m.key for m in result] == ["baseline", "report-31", "report-32", "closing"]
    assert [m.label for m in result] == ["Kickoff", "Report 1", "Report 2", "Closing"]
    assert all(isinstance(m, Milestone) for m in result)


def test_closing_is_not_a_milestone_until_the_engagement_closes():
    assert [m.key for m in milestones(closing=False)] == ["baseline", "report-31", "report-32"]
    assert [m.key for m in milestones_for([], closing=False)] == ["baseline"]


def test_a_report_milestone_gives_its_period_end_in_its_title():
    report = milestones()[1]

    assert "Report 1" in report.title
    assert "2026" in report.title and "31" in report.title


def test_scores_are_aligned_with_their_milestones():
    scores = [
        score("closing", "coachee", 2, days=200),
        score("baseline", "coachee", -1),
        score("report", "coachee", 0, report_id=31, days=80),
        score("baseline", "sponsor", -2),
        score("report", "sponsor", 1, report_id=32, days=170),
    ]

    series = objective_series(scores, milestones())

    assert series == {"coachee": [-1, 0, None, 2], "sponsor": [-2, None, 1, None]}


def test_the_latest_score_wins_when_a_rater_scored_a_milestone_twice():
    scores = [
        score("report", "sponsor", 1, report_id=31, days=90),
        score("report", "sponsor", -1, report_id=31, days=80),
        score("baseline", "coachee", 0, days=1),
        score("baseline", "coachee", -2, days=0),
    ]

    series = objective_series(scores, milestones())

    assert series["sponsor"][1] == 1
    assert series["coachee"][0] == 0


def test_scores_at_milestones_not_on_the_chart_are_ignored():
    scores = [
        score("report", "coachee", 2, report_id=99, days=80),  # another engagement's report
        score("report", "coachee", 2, days=80),  # a report milestone without its report
        score("closing", "sponsor", 1, days=200),  # closing is not on this chart yet
        score("baseline", "coach", 1),  # the coach never scores
    ]

    series = objective_series(scores, milestones(closing=False))

    assert series == {"coachee": [None, None, None], "sponsor": [None, None, None]}


def test_scores_off_the_scale_are_ignored_rather_than_drawn():
    scores = [
        score("baseline", "coachee", 5),
        score("baseline", "sponsor", None),
        score("report", "sponsor", "1", report_id=31),
        SimpleNamespace(
            milestone="closing", report_id=None, rater="coachee", score=1, scored_at=None
        ),
        SimpleNamespace(
            milestone="closing", report_id=None, rater="coachee", score=2, scored_at=KICKOFF
        ),
    ]

    series = objective_series(scores, milestones())

    assert series == {"coachee": [None, None, None, 2], "sponsor": [None, None, None, None]}


def test_a_missing_score_breaks_the_line():
    root = parse(chart([-1, 0, None, 2], [-2, None, 0, 1]))

    coachee, sponsor = lines_of(root, "coachee"), lines_of(root, "sponsor")
    assert len(coachee) == 1
    assert coachee[0].get("d").count("L") == 1  # kickoff to report 1 only
    assert len(sponsor) == 1
    assert sponsor[0].get("d").count("L") == 1  # report 2 to closing only


def test_each_run_of_known_scores_is_its_own_line():
    root = parse(chart([-1, 0, None, 2], [-2, -1, 0, 1]))
    assert len(lines_of(root, "sponsor")) == 1

    root = parse(chart([-1, None, 0, 1], [-2, -1, None, 1]))
    assert len(lines_of(root, "coachee")) == 1
    assert len(lines_of(root, "sponsor")) == 1

    root = parse(
        progress_chart(
            title="Five milestones",
            milestones=milestones_for(
                [*REPORTS, SimpleNamespace(pk=33, period_end=None)], closing=True
            ),
            series={"coachee": [-2, -1, None, 1, 2], "sponsor": [None] * 5},
        )
    )
    assert len(lines_of(root, "coachee")) == 2


def test_a_lone_score_shows_its_marker_without_a_line():
    root = parse(chart([None, 1, None, None], [None, None, None, None]))

    assert lines_of(root, "coachee") == []
    assert len(markers_of(root, "coachee")) == 1


def test_each_known_score_has_a_marker_whose_shape_tells_the_rater():
    root = parse(chart([-1, 0, None, 2], [-2, None, 0, None]))

    coachee, sponsor = markers_of(root, "coachee"), markers_of(root, "sponsor")
    assert [m.tag for m in coachee] == [f"{SVG}circle"] * 3
    assert [m.tag for m in sponsor] == [f"{SVG}rect"] * 2
    assert all(m.get("fill") != "#ffffff" for m in coachee)  # filled circles
    assert all(m.get("fill") == "#ffffff" for m in sponsor)  # hollow squares


def test_the_two_series_differ_by_line_style_and_colour():
    root = parse(chart([-1, 0, 1, 2], [-2, -1, 0, 1]))

    (coachee,), (sponsor,) = lines_of(root, "coachee"), lines_of(root, "sponsor")
    assert coachee.get("stroke-dasharray") is None
    assert sponsor.get("stroke-dasharray")
    assert coachee.get("stroke") != sponsor.get("stroke")


def test_the_legend_names_both_series():
    text = text_of(parse(chart([0, None, None, None], [None, 1, None, None])))

    assert "Coachee (self-assessment)" in text
    assert "Sponsor (observed)" in text


def test_the_y_axis_runs_from_minus_two_to_plus_two_around_the_expected_outcome():
    text = text_of(parse(chart([0, 1, 1, 2], [0, 0, 1, 1])))

    assert re.search(rf"\+2 \+1 0 {MINUS}1 {MINUS}2", text)
    assert "Expected" in text and "outcome" in text
    assert "-1" not in text  # a real minus sign, not a hyphen


def test_the_x_axis_has_one_labelled_tick_per_milestone():
    text = text_of(parse(chart([0, 1, 1, 2], [0, 0, 1, 1])))

    assert re.search(r"Kickoff Report 1 Report 2 Closing", text)


def test_the_chart_is_labelled_by_its_title_and_description_with_ids_unique_on_the_page():
    first, second = parse(chart([0] * 4, [0] * 4)), parse(chart([1] * 4, [1] * 4))

    ids = []
    for root in (first, second):
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert title.text == "Delegate more"
        ids += [title.get("id"), desc.get("id")]
    assert len(set(ids)) == 4


def test_the_description_spells_out_the_scores():
    desc = parse(chart([-1, 0, None, 2], [-2, -1, 0, 1])).find(f"{SVG}desc").text

    assert (
        f"Coachee (self-assessment) — Kickoff: {MINUS}1, Report 1: 0, Report 2: no score, "
        "Closing: +2."
    ) in desc
    assert f"Sponsor (observed) — Kickoff: {MINUS}2, Report 1: {MINUS}1, Report 2: 0, " in desc


def test_a_series_without_any_score_is_not_drawn_and_the_description_says_so():
    root = parse(chart([-1, 0, 1, None], [None, None, None, None]))

    assert markers_of(root, "sponsor") == []
    assert "Sponsor (observed): no score yet." in root.find(f"{SVG}desc").text
    assert "No score yet" not in text_of(root)


def test_a_chart_without_any_score_still_shows_its_axes_and_says_no_score_yet():
    root = parse(
        progress_chart(
            title="Speak up in committee",
            milestones=milestones_for([], closing=False),
            series=objective_series([], milestones_for([], closing=False)),
        )
    )

    text = text_of(root)
    assert "No score yet" in text
    assert "+2" in text and f"{MINUS}2" in text and "Kickoff" in text
    assert root.findall(f".//{SVG}path") == []
    assert root.find(f"{SVG}desc").text.endswith("No score yet.")


def test_bad_data_in_the_series_is_left_out_without_crashing():
    root = parse(
        progress_chart(
            title="Bad data",
            milestones=milestones(),
            series={"coachee": [5, "1", 1.5, 2, 0], "sponsor": [True], "coach": [1, 1]},
        )
    )

    assert len(markers_of(root, "coachee")) == 1  # the 2 at report 2; the list is cut at 4
    assert markers_of(root, "sponsor") == []
    assert root.findall(".//*[@data-series='coach']") == []


def test_user_text_is_escaped():
    svg = chart([0] * 4, [0] * 4, title='<script>alert("x")</script> & co')

    assert "<script>" not in svg
    assert parse(svg).find(f"{SVG}title").text == '<script>alert("x")</script> & co'


def test_coordinates_are_not_localized_in_french():
    with translation.override("fr"):
        svg = chart([-1, 0, None, 2], [-2, -1, 0, 1])

    assert not re.search(r"\d,\d", svg)


def test_the_chart_scales_with_its_container():
    root = parse(chart([0] * 4, [0] * 4))

    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert root.get("width") == "100%"
    # The page's stylesheet caps its width (no inline style: the CSP forbids it).
    assert root.get("class") == "progress-chart"
    assert root.get("style") is None
    assert root.get("font-family") == "sans-serif"


def test_the_chart_is_self_contained():
    svg = str(chart([0] * 4, [0] * 4))

    # Presentation attributes only: no script, no link, no inline style (the
    # pages' Content Security Policy forbids it); one class for the page's sizing.
    for forbidden in ("<script", "href", "url(", " style=", "<style", "@import"):
        assert forbidden not in svg


def test_the_chart_is_marked_safe_for_templates():
    assert isinstance(chart([0] * 4, [0] * 4), SafeString)


def test_the_chart_prints_with_weasyprint(caplog):
    from pypdf import PdfReader
    from weasyprint import HTML

    charts = chart([-1, 0, None, 2], [-2, -1, 0, 1]) + chart([None] * 4, [None] * 4)
    pdf = HTML(string=f"<html><body>{charts}</body></html>").write_pdf()

    # WeasyPrint logs an SVG it cannot draw and leaves it out, so look at the page.
    assert not [r for r in caplog.records if r.name == "weasyprint" and r.levelname == "ERROR"]
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert text.count("Coachee (self-assessment)") == 2
    assert "Report 2" in text and "No score yet" in text


def test_a_chart_keyed_by_its_objective_is_the_same_markup_each_time():
    """So that a document made of it is the same document (``pdf.reused_pdf``)."""
    made = [
        progress_chart(
            title="Delegate more", milestones=milestones(), series={"coachee": [0]}, key=7
        )
        for _ in range(2)
    ]

    assert made[0] == made[1]
    assert parse(made[0]).find(f"{SVG}title").get("id") == "progress-chart-7-title"
