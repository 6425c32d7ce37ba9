"""Creating an engagement and its parties."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Coach, Engagement, Format, Language, Organization, User


def engagement_create(
    *,
    coach: Coach,
    organization: Organization,
    coachee: User,
    sponsor: User,
    title: str,
    coachee_job_title: str,
    sponsor_job_title: str,
    start_date: date,
    end_date: date,
    fee_amount: Decimal,
    sessions_contracted: int = 12,
    session_minutes: int = 120,
    format: str = Format.VIDEO,
    language: str = Language.FRENCH,
    cancellation_notice_hours: int = 48,
) -> Engagement:
    """
    Create an engagement in draft. The three parties must be three different
    people: nobody coaches, sponsors or is coached in the same engagement
    twice over.
    """
    if coachee.pk == sponsor.pk:
        raise ValidationError(_("The coachee and the sponsor must be two different people."))
    if coach.user_id in (coachee.pk, sponsor.pk):
        raise ValidationError(_("The coach cannot also be the coachee or the sponsor."))
    engagement = Engagement(
        organization=organization,
        coach=coach,
        coachee=coachee,
        sponsor=sponsor,
        title=title,
        coachee_job_title=coachee_job_title,
        sponsor_job_title=sponsor_job_title,
        start_date=start_date,
        end_date=end_date,
        fee_amount=fee_amount,
        sessions_contracted=sessions_contracted,
        session_minutes=session_minutes,
        format=format,
        language=language,
        cancellation_notice_hours=cancellation_notice_hours,
    )
    engagement.full_clean()
    with transaction.atomic():
        engagement.save()
    return engagement
