from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path, reverse_lazy

from . import views
from .forms import PasswordResetForm
from .views import closing, convention, exports, kickoff, parties, privacy, reporting, sessions

public = login_not_required

urlpatterns = [
    path("", views.home, name="home"),
    # Accounts
    path(
        "connexion/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("langue/", views.switch_language, name="set_language"),
    path(
        "mot-de-passe/oubli/",
        public(
            auth_views.PasswordResetView.as_view(
                form_class=PasswordResetForm,
                email_template_name="registration/password_reset_email.txt",
                subject_template_name="registration/password_reset_subject.txt",
            )
        ),
        name="password_reset",
    ),
    path(
        "mot-de-passe/oubli/envoye/",
        public(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/<uidb64>/<token>/",
        public(
            auth_views.PasswordResetConfirmView.as_view(
                success_url=reverse_lazy("password_reset_complete")
            )
        ),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/modifie/",
        public(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path(
        "invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    # Portals
    path("espace/coach/", views.coach_portal, name="coach_portal"),
    path("espace/coache/", views.coachee_portal, name="coachee_portal"),
    path("espace/commanditaire/", views.sponsor_portal, name="sponsor_portal"),
    path("espace/rh/", views.hr_portal, name="hr_portal"),
    path("espace/rh/conventions-signees.zip", exports.hr_export, name="hr_export"),
    path("espace/rh/exports/<int:pk>/", exports.convention_export, name="convention_export"),
    path(
        "espace/rh/exports/<int:pk>/conventions-signees.zip",
        exports.convention_export_download,
        name="convention_export_download",
    ),
    path("invitations/rh/", views.hr_invite_view, name="hr_invite"),
    path("invitations/rh/propositions/", views.hr_proposals, name="hr_proposals"),
    path(
        "invitations/rh/propositions/<int:proposal_id>/confirmation/",
        views.hr_proposal_confirm_view,
        name="hr_proposal_confirm",
    ),
    path(
        "invitations/rh/propositions/<int:proposal_id>/refus/",
        views.hr_proposal_decline_view,
        name="hr_proposal_decline",
    ),
    # Engagements
    path("accompagnements/nouveau/", views.engagement_new, name="engagement_new"),
    path("accompagnements/<int:pk>/", views.engagement_detail, name="engagement_detail"),
    path(
        "accompagnements/<int:pk>/retrait/",
        views.engagement_withdraw_view,
        name="engagement_withdraw",
    ),
    path(
        "accompagnements/<int:pk>/modalites/",
        views.engagement_terms,
        name="engagement_terms",
    ),
    path(
        "accompagnements/<int:pk>/annulation/",
        views.engagement_cancel_view,
        name="engagement_cancel",
    ),
    path(
        "accompagnements/<int:pk>/organisation/",
        parties.organization_details,
        name="organization_details",
    ),
    path(
        "accompagnements/<int:pk>/invitations/<str:role>/renvoi/",
        parties.invitation_resend_view,
        name="invitation_resend",
    ),
    # Kickoff
    path(
        "accompagnements/<int:pk>/cadrage/planifier/",
        kickoff.kickoff_schedule,
        name="kickoff_schedule",
    ),
    path("accompagnements/<int:pk>/cadrage/", kickoff.kickoff, name="kickoff"),
    path(
        "accompagnements/<int:pk>/cadrage/compte-rendu/",
        kickoff.kickoff_outcome,
        name="kickoff_outcome",
    ),
    path(
        "accompagnements/<int:pk>/cadrage/objectifs/",
        kickoff.objective_add,
        name="objective_add",
    ),
    path(
        "accompagnements/<int:pk>/cadrage/objectifs/<int:objective_id>/",
        kickoff.objective_edit,
        name="objective_edit",
    ),
    path(
        "accompagnements/<int:pk>/cadrage/objectifs/<int:objective_id>/approbation/",
        kickoff.objective_approve,
        name="objective_approve",
    ),
    path(
        "accompagnements/<int:pk>/cadrage/objectifs/<int:objective_id>/suppression/",
        kickoff.objective_delete,
        name="objective_delete",
    ),
    path(
        "accompagnements/<int:pk>/scores-de-depart/",
        reporting.baseline_scores,
        name="baseline_scores",
    ),
    # Convention
    path(
        "accompagnements/<int:pk>/convention/envoi/",
        convention.convention_send,
        name="convention_send",
    ),
    path(
        "accompagnements/<int:pk>/convention/v<int:version>/",
        convention.convention_sign_page,
        name="convention_sign",
    ),
    path(
        "accompagnements/<int:pk>/convention/v<int:version>/code/",
        convention.convention_code,
        name="convention_code",
    ),
    path(
        "accompagnements/<int:pk>/convention/v<int:version>/signature/",
        convention.convention_sign,
        name="convention_sign_submit",
    ),
    path(
        "accompagnements/<int:pk>/convention/v<int:version>/document.pdf",
        convention.convention_document,
        name="convention_document",
    ),
    path(
        "accompagnements/<int:pk>/convention/v<int:version>/convention-signee.pdf",
        convention.convention_signed_document,
        name="convention_signed_document",
    ),
]

urlpatterns += [
    # Sessions
    path("accompagnements/<int:pk>/seances/", sessions.sessions, name="sessions"),
    path("accompagnements/<int:pk>/seances/nouvelle/", sessions.session_new, name="session_new"),
    path("accompagnements/<int:pk>/seances/serie/", sessions.series, name="series"),
    path(
        "accompagnements/<int:pk>/seances/<int:session_id>/",
        sessions.session_detail,
        name="session_detail",
    ),
    path(
        "accompagnements/<int:pk>/seances/<int:session_id>/seance.ics",
        sessions.session_ics,
        name="session_ics",
    ),
    path(
        "accompagnements/<int:pk>/seances/<int:session_id>/deplacer/",
        sessions.session_reschedule,
        name="session_reschedule",
    ),
    path(
        "accompagnements/<int:pk>/seances/<int:session_id>/annuler/",
        sessions.session_cancel,
        name="session_cancel",
    ),
    path(
        "accompagnements/<int:pk>/seances/<int:session_id>/presence/",
        sessions.session_attendance,
        name="session_attendance",
    ),
    path(
        "accompagnements/<int:pk>/seances/<int:session_id>/notes/",
        sessions.session_notes,
        name="session_notes",
    ),
    path(
        "accompagnements/<int:pk>/disponibilites/demande/",
        sessions.availability_request,
        name="availability_request",
    ),
    path(
        "accompagnements/<int:pk>/disponibilites/",
        sessions.availability_save,
        name="availability_save",
    ),
    # Sponsor reports
    path("accompagnements/<int:pk>/rapports/nouveau/", reporting.report_new, name="report_new"),
    path(
        "accompagnements/<int:pk>/rapports/<int:report_id>/",
        reporting.report_detail,
        name="report_detail",
    ),
    path(
        "accompagnements/<int:pk>/rapports/<int:report_id>/redaction/",
        reporting.report_edit,
        name="report_edit",
    ),
    path(
        "accompagnements/<int:pk>/rapports/<int:report_id>/approbation/",
        reporting.report_approve,
        name="report_approve",
    ),
    path(
        "accompagnements/<int:pk>/rapports/<int:report_id>/renvoi/",
        reporting.report_return,
        name="report_return",
    ),
    path(
        "accompagnements/<int:pk>/rapports/<int:report_id>/scores/",
        reporting.report_scores,
        name="report_scores",
    ),
    path(
        "accompagnements/<int:pk>/rapports/<int:report_id>/rapport.pdf",
        reporting.report_pdf,
        name="report_pdf",
    ),
    # Closing review
    path(
        "accompagnements/<int:pk>/cloture/demarrer/",
        closing.closing_start,
        name="closing_start",
    ),
    path(
        "accompagnements/<int:pk>/cloture/demande/",
        closing.closing_request,
        name="closing_request",
    ),
    path("accompagnements/<int:pk>/cloture/synthese/", closing.synthesis, name="synthesis"),
    path(
        "accompagnements/<int:pk>/cloture/synthese/validation/",
        closing.synthesis_validate,
        name="synthesis_validate",
    ),
    path(
        "accompagnements/<int:pk>/cloture/synthese/renvoi/",
        closing.synthesis_return,
        name="synthesis_return",
    ),
    path(
        "accompagnements/<int:pk>/cloture/synthese/emission/",
        closing.synthesis_issue,
        name="synthesis_issue",
    ),
    path(
        "accompagnements/<int:pk>/cloture/synthese-<str:version>.pdf",
        closing.synthesis_pdf,
        name="synthesis_pdf",
    ),
    path(
        "accompagnements/<int:pk>/cloture/scores/",
        closing.closing_scores,
        name="closing_scores",
    ),
    # Calendars
    path("calendrier/", sessions.calendar_settings, name="calendar_settings"),
    # Privacy: what is kept and for how long; the coachee's own data
    path("mes-donnees/", privacy.privacy_page, name="privacy"),
    path("mes-donnees/archive.zip", privacy.privacy_archive, name="privacy_archive"),
    path("calendrier/<str:token>.ics", sessions.calendar_feed, name="calendar_feed"),
]
