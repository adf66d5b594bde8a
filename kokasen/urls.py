from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from kokasen.accounts import views_login as account_login_views
from kokasen.members import serving as member_serving
from kokasen.members import views as member_views
from kokasen.ops import views as ops_views
from kokasen.pages import views as page_views

urlpatterns = [
    # The monitor's: loopback and HEALTH_ALLOWED_NETWORKS only, 404 for others (kokasen/ops).
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    # The admins' own login forms would be a password-only way in: send them to /login/. So is
    # Wagtail's front-end login (wagtail_urls below), which also skips the login defences.
    path("admin/login/", account_login_views.admin_login_redirect),
    path("django-admin/login/", account_login_views.admin_login_redirect),
    path("_util/login/", account_login_views.admin_login_redirect),
    path("admin/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    # Same URL as Wagtail's document view, with range requests and X-Accel-Redirect
    # (kokasen/members/views.py explains why this is a view and not a hook).
    re_path(r"^documents/(\d+)/(.*)$", member_views.serve_document, name="members_document_serve"),
    # Wagtail's password forms for restricted collections and pages: never used here (404).
    re_path(r"^documents/authenticate_with_password/", member_views.no_password_restrictions),
    re_path(r"^_util/authenticate_with_password/", member_views.no_password_restrictions),
    path("documents/", include(wagtaildocs_urls)),
    # Originals and renditions of images in restricted collections (never under /media/):
    # the same access check as documents (kokasen/members/images.py, docs/decisions/0019).
    path("members/images/<path:name>", member_views.serve_image, name="members_image_serve"),
    path("", include("kokasen.accounts.urls")),
    path("search/", page_views.search, name="search"),
    path("feed.atom", page_views.news_feed, name="news_feed"),
    # Django views inside the members area; listed before Wagtail's catch-all, so they win.
    path("members/tips/", include("kokasen.tips.urls")),
    path("members/feedback/", include("kokasen.feedback.urls")),
]

if settings.DEBUG:
    # Images only: document originals (documents/) are served by /documents/<id>/<name>/,
    # which checks access, never straight from MEDIA_ROOT.
    from kokasen.members.media import dev_media_urlpatterns

    urlpatterns += dev_media_urlpatterns()

urlpatterns += [
    # The members area's pages, served from the cached routes and restrictions of the area
    # (members/serving.py); anything it does not know goes on to Wagtail's own serve.
    re_path(r"^(members/(?:[\w\-]+/)*)$", member_serving.serve, name="members_page_serve"),
    path("", include(wagtail_urls)),
]

# The portal's Japanese error pages (docs/decisions/0018-error-pages.md).
handler400 = "kokasen.core.errors.bad_request"
handler403 = "kokasen.core.errors.permission_denied"
handler404 = "kokasen.core.errors.page_not_found"
handler500 = "kokasen.core.errors.server_error"
