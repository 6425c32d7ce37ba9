from .account import (
    InvitationAcceptView,
    hr_invite_view,
    hr_proposal_confirm_view,
    hr_proposal_decline_view,
    hr_proposals,
    switch_language,
)
from .engagements import (
    engagement_cancel_view,
    engagement_detail,
    engagement_new,
    engagement_terms,
    engagement_withdraw_view,
)
from .portal import (
    coach_portal,
    coachee_portal,
    home,
    hr_portal,
    sponsor_portal,
)

__all__ = [
    "InvitationAcceptView",
    "coach_portal",
    "coachee_portal",
    "engagement_cancel_view",
    "engagement_detail",
    "engagement_new",
    "engagement_terms",
    "engagement_withdraw_view",
    "home",
    "hr_invite_view",
    "hr_portal",
    "hr_proposal_confirm_view",
    "hr_proposal_decline_view",
    "hr_proposals",
    "sponsor_portal",
    "switch_language",
]
