"""« 1er décembre »: the first of the month as French readers expect it, everywhere."""

from datetime import date, datetime

import pytest
from django.template import engines
from django.utils import translation


def render(source, **context):
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(
    "source, expected",
    [
        ('{{ d|date:"j F Y" }}', "1er décembre 2026"),
        ('{{ d|date:"l j F Y, H:i" }}', "mardi 1er décembre 2026, 10:00"),
        ('{{ d|date:"DATE_FORMAT" }}', "1er décembre 2026"),
        ("{{ d|date }}", "1er décembre 2026"),
        ('{{ d|date:"D j N" }}', "mar 1er déc."),
        ('{{ d|date:"SHORT_DATE_FORMAT" }}', "01/12/2026"),
        ('{{ other|date:"j F" }}', "2 décembre"),
        (r'{{ d|date:"\j j F" }}', "j 1er décembre"),
    ],
)
def test_the_first_of_the_month_in_french(source, expected):
    with translation.override("fr"):
        assert render(source, d=datetime(2026, 12, 1, 10, 0), other=date(2026, 12, 2)) == expected


def test_english_is_left_alone():
    with translation.override("en"):
        assert render('{{ d|date:"j F Y" }}', d=date(2026, 12, 1)) == "1 December 2026"


def test_a_weekday_is_lowercase_in_a_date_and_capitalized_in_a_list():
    from engagements.forms import WEEKDAYS

    with translation.override("fr"):
        assert render('{{ d|date:"l j F" }}', d=date(2026, 12, 13)) == "dimanche 13 décembre"
        assert [str(label) for _number, label in WEEKDAYS][:2] == ["Lundi", "Mardi"]
