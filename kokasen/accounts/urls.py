from django.urls import path  # noqa: F401

from . import upload_gate, views_enrolment, views_login, views_self_service, views_session

app_name = "accounts"

urlpatterns = [
    # Login, TOTP step, logout (docs/decisions/0007-login-security.md)
    path("login/", views_login.LoginView.as_view(), name="login"),
    path("login/totp/", views_login.login_totp, name="login_totp"),
    path("login/totp/setup/", views_login.login_totp_setup, name="login_totp_setup"),
    # A one-time recovery code instead of the app's code (docs/decisions/0053-japanese-admin-and-recovery-codes.md)
    path("login/totp/recovery/", views_login.login_totp_recovery, name="login_totp_recovery"),
    # The one-time invitation to enrol (docs/decisions/0020-staff-enrolment-invitations.md)
    path("login/totp/invitation/<str:token>/", views_enrolment.enrolment_invitation, name="enrolment_invitation"),
    path("logout/", views_login.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail and the account page (docs/decisions/0008-provisioning-and-credentials.md)
    path("password-reset/", views_self_service.password_reset_request, name="password_reset"),
    path("password-reset/sent/", views_self_service.password_reset_done, name="password_reset_done"),
    path("password-reset/done/", views_self_service.password_reset_complete, name="password_reset_complete"),
    path(
        "password-reset/<uidb64>/<token>/",
        views_self_service.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("account/", views_self_service.profile, name="profile"),
    # The login's time left and its extension, for static/js/session-timeout.js (decision 0066)
    path("session/", views_session.session_state, name="session"),
    # nginx's auth_request for bodies sent to the admins (deploy/nginx/portal.conf, decision 0021)
    path("_auth/staff-upload", upload_gate.staff_upload_auth, name="staff_upload_auth"),
]
