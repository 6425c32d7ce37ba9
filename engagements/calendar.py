"""
iCalendar: invitations attached to e-mails (REQUEST, then CANCEL) and each
person's private feed. Times are in Europe/Paris with a VTIMEZONE, so that
they stay right across daylight-saving changes. Events never carry session
content: kind, time, place or video link, and the engagement's page.
"""

import hashlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import permissions
from .models import CoachingSession

PARIS = ZoneInfo("Europe/Paris")

# Europe/Paris as calendar programs describe it (EU rules since 1996): the
# yearly RRULE form is understood by every client, where a long RDATE list is
# not (ical.js, for one, reads only its first date).
PARIS_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
X-LIC-LOCATION:Europe/Paris
BEGIN:DAYLIGHT
TZNAME:CEST
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19960331T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZNAME:CET
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19961027T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""
PRODID = "-//Trio//Coaching tripartite//FR"
UID_DOMAIN = "trio.coaching"


def _summary(session, role):
    engagement = session.engagement
    kind = session.get_kind_display()
    if role == "coachee":
        return f"{kind[:1].upper()}{kind[1:]} — {engagement.coach}"
    return f"{kind[:1].upper()}{kind[1:]} — {engagement.coachee}"


def session_event(session, *, role, now=None):
    """One VEVENT for ``session`` as seen by a party holding ``role``."""
    from icalendar import Event, vCalAddress

    engagement = session.engagement
    event = Event()
    event.add("uid", f"{session.uid}@{UID_DOMAIN}")
    event.add("sequence", session.sequence)
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", session.starts_at.astimezone(PARIS))
    event.add("dtend", session.ends_at.astimezone(PARIS))
    event.add("summary", _summary(session, role))
    link = settings.SITE_URL + engagement.get_absolute_url()
    if session.format == "video":
        event.add("location", session.video_url or _("Video"))
        description = (
            f"{_('Video link:')} {session.video_url}\n{link}" if session.video_url else link
        )
    else:
        event.add("location", session.location)
        description = link
    event.add("description", description)
    event.add("url", link)
    cancelled = session.status == CoachingSession.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{engagement.coach.user.email}")
    organizer.params["cn"] = str(engagement.coach)
    event.add("organizer", organizer)
    for person in invited(session):
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = str(person)
        attendee.params["role"] = "REQ-PARTICIPANT"
        event.add("attendee", attendee)
    return event


def invited(session):
    """The people invited to a session (``permissions.meeting_parties``)."""
    return [session.engagement.party_for(role) for role in permissions.meeting_parties(session)]


def _calendar(events, *, method=None, name=None):
    from icalendar import Calendar, Timezone

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add_component(Timezone.from_ical(PARIS_VTIMEZONE.replace("\n", "\r\n")))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def invitation(session, *, role, language="fr") -> bytes:
    """The .ics attached to an e-mail: REQUEST while planned, CANCEL once cancelled."""
    return invitations([session], role=role, language=language)


def invitations(sessions, *, role, language="fr") -> bytes:
    """
    One .ics for several meetings of one action (a series booked, the
    meetings an ending cancels): one VTIMEZONE, one VEVENT per meeting with
    its own UID and SEQUENCE. A file carries one METHOD, so the meetings are
    either all planned (REQUEST) or all cancelled (CANCEL).
    """
    cancelled = {session.status == CoachingSession.Status.CANCELLED for session in sessions}
    if len(cancelled) != 1:
        raise ValueError("An invitation holds planned meetings or cancelled ones, not both.")
    method = "CANCEL" if cancelled.pop() else "REQUEST"
    now = timezone.now()
    with translation.override(language):
        return _calendar(
            [session_event(session, role=role, now=now) for session in sessions], method=method
        )


# The feed's window: meetings from 90 days back to 400 days ahead. A built
# feed is kept until a meeting of that person changes (its key changes) or
# for a day at most.
FEED_DAYS_BACK = 90
FEED_DAYS_AHEAD = 400
FEED_CACHE_SECONDS = 24 * 60 * 60


def feed(user, sessions_by_role) -> bytes:
    """A person's feed: ``sessions_by_role`` maps a role to its sessions (from the selectors)."""
    with translation.override(user.language):
        events = [
            session_event(session, role=role)
            for role, sessions in sessions_by_role.items()
            for session in sessions
        ]
        return _calendar(events, name=_("Coaching — %(name)s") % {"name": user})


def feed_window(now=None):
    """The feed's bounds, whole days in Paris, so that they move once a day."""
    today = timezone.localdate(now or timezone.now(), PARIS)
    start = datetime.combine(today - timedelta(days=FEED_DAYS_BACK), time.min, tzinfo=PARIS)
    end = datetime.combine(today + timedelta(days=FEED_DAYS_AHEAD), time.min, tzinfo=PARIS)
    return start, end


def feed_validators(user, window, version):
    """
    The feed's ETag and Last-Modified, from what it depends on (the person,
    the window, ``selectors.calendar_version``): both change whenever its
    content may, without building it.
    """
    changed = [moment for moment in version.values() if isinstance(moment, datetime)]
    last_modified = max([*changed, window[0]])
    key = "|".join(
        str(part)
        for part in (
            user.pk,
            user.language,
            user.get_full_name(),
            window[0].date(),
            *(version[name] for name in sorted(version)),
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32], last_modified


def cached_feed(user, etag, build) -> bytes:
    """The serialized feed for ``etag``, built by ``build()`` once until something changes."""
    return cache.get_or_set(f"calendar-feed:{user.pk}:{etag}", build, FEED_CACHE_SECONDS)
