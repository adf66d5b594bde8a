from django.urls import path  # noqa: F401

from . import views_login

app_name = "accounts"

urlpatterns = [
    # Login, TOTP step, logout (docs/decisions/0007-login-security.md)
    path("login/", views_login.LoginView.as_view(), name="login"),
    path("login/totp/", views_login.login_totp, name="login_totp"),
    path("login/totp/setup/", views_login.login_totp_setup, name="login_totp_setup"),
    path("logout/", views_login.LogoutView.as_view(), name="logout"),
]
