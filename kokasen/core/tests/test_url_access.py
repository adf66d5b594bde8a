"""Every URL of the project, for every persona, against one declared matrix (decision 0026).

The URLconf is walked recursively (``get_resolver``): the portal's own routes, Wagtail's admin
with the screens our apps register through hooks, Django's admin, Wagtail's documents and page
serving. Every route whose view is ours (``kokasen.*``) has a row in ``ROWS``: one or more
concrete URLs built from a scene of real objects (an open topic, a waiting post of member A, an
opinion, a meeting with groups and rooms, a restricted document and image, the members area's
pages …), each with the answer every persona gets to GET and, where the view changes
something, to POST. A refused POST must change nothing: the database connection must not have
written a single row, in any table, while answering it. Every POST runs in a savepoint that is
rolled back (and the session cookie is put back), so an accepted one leaves the scene as it was
for the next.

The routes of Wagtail's and Django's own admin views are covered by ``PREFIX_RULES``: every one
of them is requested (GET and POST, placeholder arguments) by the personas who may not use that
admin, whose answer comes before any view runs (Wagtail's ``require_admin_access``,
``StaffTwoFactorMiddleware``, the body gate), and a sample of them by the staff personas. Their
routes that answer before any such check (Wagtail's password reset, sprite, …) have rows.

A route with neither a row nor a prefix rule fails ``test_every_route_has_a_rule``, naming it:
a new URL needs its line here before it ships.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_finished
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import CollectionViewRestriction, PageViewRestriction
from wagtail.users.models import UserProfile

from kokasen.accounts import roles
from kokasen.accounts import services as account_services
from kokasen.analytics.models import GeneratedReport
from kokasen.feedback.models import Opinion
from kokasen.meetings.models import Group, Participant
from kokasen.meetings.services import rooms
from kokasen.meetings.tests.test_rooms import grouped_meeting
from kokasen.members.models import MembersHomePage, RoundtablePage
from kokasen.members.services import members_collection
from kokasen.members.tests.imaging import make_image
from kokasen.notifications import message_templates
from kokasen.notifications.models import MessageTemplate
from kokasen.ops.models import Alert, EmergencyContact, Incident
from kokasen.pages.models import HomePage
from kokasen.static_export.builds import archive_dir
from kokasen.static_export.models import ExportBuild
from kokasen.testing import CODE_A, CODE_B, login_member, login_staff, make_member, make_staff
from kokasen.tips import services as tips_services
from kokasen.tips.models import Topic

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "member_a", "member_b", "agency_admin", "operator", "disabled", "unverified")

# What a persona gets, besides a plain status code:
LOGIN = "login"  # 302 to /login/?next=<this URL>
TOTP = "totp"  # 302 to the TOTP step, /login/totp/?next=<this URL>
HOME = "home"  # 302 to the admin home: Wagtail's answer to PermissionDenied (「権限がありません」)
DJ_LOGIN = "django-admin login"  # 302 to /django-admin/login/?next=<this URL> (which sends on to /login/)
DONE = "done"  # a 302 anywhere else: the view ran and sent the browser on
SHOWN = "shown"  # 200 or 400: the view ran and showed its page again (with the form's errors, if any)
READY = "ready"  # 200 or 503: the readiness check ran (green or red, whatever the test machine has)
REFUSALS = {LOGIN, TOTP, HOME, DJ_LOGIN, 401, 403, 404, 405}


def to(path: str) -> tuple[str, str]:
    """A 302 to ``path`` (its query string aside)."""
    return ("to", path)


L, T, H = LOGIN, TOTP, HOME


def staff(admin=200, operator=200):
    """A staff screen in Wagtail's admin. Visitors, members and a disabled account: Wagtail's
    login redirect; a staff session without TOTP: the TOTP step."""
    return (L, L, L, admin, operator, L, T)


def staff_post(admin=DONE, operator=DONE):
    """A POST to a staff screen: the body gate refuses everyone but verified staff unread (403);
    a staff session without TOTP is sent to the TOTP step first."""
    return (403, 403, 403, admin, operator, 403, T)


# The members area: members and verified staff read it; visitors, a disabled account and a staff
# session without TOTP are sent to log in.
MEMBERS_AREA = (L, 200, 200, 200, 200, L, L)
EVERYONE = (200,) * 7


@dataclass
class Case:
    url: str | Callable
    get: tuple
    post: tuple | None = None
    data: dict | Callable | None = None
    headers: dict | None = None


# --- the scene -------------------------------------------------------------------------------------


class Scene:
    """The real objects the URLs are built from."""

    def __init__(self, *, member_a, member_b, agency_admin, operator):
        self.member_a, self.member_b = member_a, member_b
        self.agency_admin, self.operator = agency_admin, operator
        self.topic = Topic.objects.create(
            title="アクセス確認のお題",
            opens_at=timezone.now() - timedelta(days=1),
            closes_at=timezone.now() + timedelta(days=14),
        )
        self.post = tips_services.post_submit(topic=self.topic, author=member_a, body="アクセス確認の投稿（承認待ち）")
        self.opinion = Opinion.objects.create(
            author=member_a, local_government=member_a.local_government, body="アクセス確認のご意見"
        )
        self.meeting = grouped_meeting(towns=4)
        rooms.rooms_assign(meeting=self.meeting, acting_user=agency_admin)
        self.room = self.meeting.rooms.order_by("number").first()
        self.participant = Participant.objects.filter(meeting=self.meeting).order_by("number").first()
        self.empty_group = Group.objects.create(meeting=self.meeting, number=99, name="空のグループ")
        self.template = MessageTemplate.objects.create(
            kind=message_templates.CREDENTIALS, subject="件名 {団体名}", body="{ユーザーID} {パスワード} {ログインURL}"
        )
        self.invitee = get_user_model().objects.create_user("invited-operator", email="invited@contractor.example.jp")
        self.invitee.groups.add(roles.ensure_role_groups()[roles.OPERATOR])
        issued = account_services.enrolment_invitation_issue(user=self.invitee, print_link=True)
        self.invitation_path = urlsplit(issued.link).path
        self.handout = RoundtablePage.objects.get(slug="roundtable-01").handouts.first().document
        restricted = CollectionViewRestriction.objects.values_list("collection", flat=True)
        self.public_document = (
            get_document_model()
            .objects.exclude(collection__in=restricted)
            .exclude(collection__members_protection__isnull=False)
            .first()
        )
        self.image = make_image("アクセス確認の図", members_collection(), "access-chart.png")
        self.members_home = MembersHomePage.objects.get()
        self.alert = Alert.objects.create(
            rule="scanner",
            key="192.0.2.9",
            severity="warning",
            summary="192.0.2.9 から脆弱性スキャン",
            first_seen=timezone.now(),
            last_seen=timezone.now(),
            count=10,
        )
        self.contact = EmergencyContact.objects.create(
            position=1,
            role="受託者 運用責任者",
            name="確認 太郎",
            phone="03-0000-0000",
            email="lead@contractor.example.jp",
        )
        self.incident = Incident.objects.create(title="アクセス確認の事故", kind="outage", detected_at=timezone.now())
        self.members_restriction = PageViewRestriction.objects.get(page=self.members_home)
        self.analytics_report = GeneratedReport.objects.create(
            start=date(2026, 11, 1), end=date(2026, 11, 30), title="効果分析報告書", docx=b"w", pdf=b"p", xlsx=b"x"
        )
        archive_dir().mkdir(parents=True, exist_ok=True)
        (archive_dir() / "kokasen-site-access.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty ZIP
        self.export_build = ExportBuild.objects.create(
            structure="flat", design="standard", status="done", active=None, zip_file="kokasen-site-access.zip"
        )


# --- the matrix --------------------------------------------------------------------------------------

#        persona:  anonymous member_a member_b 管理者 受託者 disabled unverified
# fmt: off
ROWS: dict[str, list[Case]] = {
    # Public pages (Wagtail serves them).
    r"^((?:[\w\-]+/)*)$": [
        Case("/", EVERYONE),
        Case("/no-such-page/", (404,) * 7),
    ],
    # The members area's pages, from its cached routes (members/serving.py; members.access checks
    # them too); what it does not know goes on to Wagtail's serve (404, the login page).
    r"^(members/(?:[\w\-]+/)*)$": [
        Case(lambda s: MembersHomePage.objects.get().url, MEMBERS_AREA),
        Case(lambda s: RoundtablePage.objects.get(slug="roundtable-01").url, MEMBERS_AREA),
        Case("/members/no-such-page/", (404,) * 7),
    ],
    "search/": [Case("/search/?q=研修", EVERYONE)],
    # The monitor's (kokasen/ops): by network, not by persona — the test client is on loopback.
    "healthz": [
        Case("/healthz", EVERYONE),
        Case("/healthz", (404,) * 7, headers={"X-Forwarded-For": "203.0.113.9"}),
    ],
    "readyz": [
        Case("/readyz", (READY,) * 7),
        Case("/readyz", (404,) * 7, headers={"X-Forwarded-For": "203.0.113.9"}),
    ],
    "feed.atom": [Case("/feed.atom", EVERYONE)],
    # Files: documents through our view (Wagtail's restriction, then ours), images of restricted
    # collections through ours; Wagtail's password forms exist for nobody.
    r"^documents/(\d+)/(.*)$": [
        Case(lambda s: s.handout.url, MEMBERS_AREA),
        Case(lambda s: s.public_document.url, EVERYONE),
    ],
    "^documents/authenticate_with_password/": [
        Case("/documents/authenticate_with_password/1/", (404,) * 7, post=(404,) * 7, data={"password": "x"}),
    ],
    "^_util/authenticate_with_password/": [
        Case(lambda s: f"/_util/authenticate_with_password/{s.members_restriction.pk}/{s.members_home.pk}/", (404,) * 7,
             post=(404,) * 7, data={"password": "x", "return_url": "/members/"}),
    ],
    "members/images/<path:name>": [Case(lambda s: s.image.file.url, MEMBERS_AREA)],
    # Logging in. The admins' and Wagtail's own login forms send everyone to /login/ (a staff
    # session without TOTP asking the admins for theirs gets the TOTP step, like any admin URL).
    "login/": [Case("/login/", EVERYONE)],
    "admin/login/": [
        Case("/admin/login/?next=/admin/pages/", (to("/login/"),) * 6 + (T,),
             post=(403, 403, 403, to("/login/"), to("/login/"), 403, T), data={"username": "x", "password": "y"}),
    ],
    "django-admin/login/": [
        Case("/django-admin/login/", (to("/login/"),) * 6 + (T,), post=(403,) * 6 + (T,),
             data={"username": "x", "password": "y"}),
    ],
    "_util/login/": [
        Case("/_util/login/?next=/members/", (to("/login/"),) * 7, post=(to("/login/"),) * 7,
             data={"username": CODE_A, "password": "wrong password"}),
    ],
    "login/totp/": [
        Case("/login/totp/", (to("/login/"),) * 6 + (200,), post=(to("/login/"),) * 6 + (200,),
             data={"otp_token": "000000"}),
    ],
    "login/totp/setup/": [Case("/login/totp/setup/", (to("/login/"),) * 6 + (to("/login/totp/"),))],
    # A one-time recovery code instead of the app's code (decision 0053): only after the password.
    "login/totp/recovery/": [
        Case("/login/totp/recovery/", (to("/login/"),) * 6 + (200,), post=(to("/login/"),) * 6 + (200,),
             data={"recovery_code": "aaaaa-aaaaa"}),
    ],
    "login/totp/invitation/<str:token>/": [
        Case(lambda s: s.invitation_path, (to("/login/"),) * 7),
        Case("/login/totp/invitation/not-a-token/", (404,) * 7),
    ],
    "logout/": [Case("/logout/", (405,) * 7, post=EVERYONE)],
    "password-reset/": [Case("/password-reset/", EVERYONE, post=(to("/password-reset/sent/"),) * 7,
                             data={"code": CODE_B})],
    "password-reset/sent/": [Case("/password-reset/sent/", EVERYONE)],
    "password-reset/done/": [Case("/password-reset/done/", EVERYONE)],
    "password-reset/<uidb64>/<token>/": [Case("/password-reset/MQ/not-a-token/", EVERYONE)],
    # The local government's own page: members only; staff manage their accounts in the admin.
    "account/": [
        Case("/account/", (L, 200, 200, 403, 403, L, 403), post=(L, SHOWN, SHOWN, 403, 403, L, 403),
             data={"old_password": "x", "new_password1": "new-password-12345", "new_password2": "new-password-12345"}),
    ],
    # The login's time left and its extension (decision 0066): members and verified staff only.
    "session/": [Case("/session/", (403, 200, 200, 200, 200, 403, 403), post=(403, 200, 200, 200, 200, 403, 403))],
    # nginx's auth_request for bodies sent to the admins (decision 0021).
    "_auth/staff-upload": [
        Case("/_auth/staff-upload", (204,) * 7),
        Case("/_auth/staff-upload", (401, 403, 403, 204, 204, 401, 403),
             headers={"X-Original-URI": "/admin/documents/multiple/add/", "X-Original-Content-Length": "1000"}),
    ],
    # The 小ネタ board and the 意見箱 form (members_area_required): staff read the board but do
    # not post; only the poster opens her own waiting post.
    "members/tips/": [Case("/members/tips/", MEMBERS_AREA)],
    "members/tips/<int:pk>/": [
        Case(lambda s: f"/members/tips/{s.topic.pk}/", MEMBERS_AREA, post=(L, DONE, DONE, DONE, DONE, L, L),
             data={"body": "アクセス確認の新しい投稿", "contact_email": ""}),
    ],
    "members/tips/posts/<int:pk>/edit/": [
        Case(lambda s: f"/members/tips/posts/{s.post.pk}/edit/", (L, 200, 404, 404, 404, L, L),
             post=(L, DONE, 404, 404, 404, L, L), data={"body": "書き換えた本文", "contact_email": ""}),
    ],
    "members/tips/posts/<int:pk>/withdraw/": [
        Case(lambda s: f"/members/tips/posts/{s.post.pk}/withdraw/", (L, 200, 404, 404, 404, L, L),
             post=(L, DONE, 404, 404, 404, L, L), data={}),
    ],
    "members/feedback/": [
        Case("/members/feedback/", MEMBERS_AREA, post=(L, DONE, DONE, SHOWN, SHOWN, L, L),
             data={"body": "アクセス確認の新しいご意見", "category": ""}),
    ],
    "members/feedback/thanks/": [Case("/members/feedback/thanks/", MEMBERS_AREA)],
    # --- Wagtail's admin: our screens (staff_required, agency_admin_required) ---------------------
    "admin/login-security/": [Case("/admin/login-security/", staff())],
    "admin/login-security/release-account/": [
        Case("/admin/login-security/release-account/", staff(405, 405), post=staff_post(), data={"username": CODE_A}),
    ],
    "admin/login-security/release-address/": [
        Case("/admin/login-security/release-address/", staff(405, 405), post=staff_post(),
             data={"address": "198.51.100.7"}),
    ],
    "admin/local-government-accounts/": [Case("/admin/local-government-accounts/", staff())],
    "admin/local-government-accounts/<int:pk>/<str:action>/": [
        Case(lambda s: f"/admin/local-government-accounts/{s.member_b.pk}/disable/", staff(), post=staff_post(),
             data={}),
    ],
    "admin/local-government-accounts/import/": [
        Case("/admin/local-government-accounts/import/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/local-government-accounts/import/confirm/": [
        Case("/admin/local-government-accounts/import/confirm/", staff(405, 405), post=staff_post(),
             data={"digest": "x"}),
    ],
    "admin/local-government-accounts/outbox/": [Case("/admin/local-government-accounts/outbox/", staff())],
    "admin/staff-two-factor/": [Case("/admin/staff-two-factor/", staff(200, H))],
    "admin/staff-two-factor/<int:pk>/<str:action>/": [
        Case(lambda s: f"/admin/staff-two-factor/{s.invitee.pk}/invite/", staff(200, H), post=staff_post(DONE, H),
             data={}),
        # Resetting somebody else's app and recovery codes: 管理者 only (decision 0053).
        Case(lambda s: f"/admin/staff-two-factor/{s.operator.pk}/reset/", staff(200, H), post=staff_post(DONE, H),
             data={}),
    ],
    # One's own recovery codes (decision 0053): every verified staff member, for themselves.
    "admin/recovery-codes/": [
        Case("/admin/recovery-codes/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/snippets/notifications/messagetemplate/": [
        Case("/admin/snippets/notifications/messagetemplate/", staff()),
    ],
    "admin/snippets/notifications/messagetemplate/add/": [
        Case("/admin/snippets/notifications/messagetemplate/add/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/snippets/notifications/messagetemplate/edit/<int:pk>/": [
        Case(lambda s: f"/admin/snippets/notifications/messagetemplate/edit/{s.template.pk}/", staff(),
             post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/snippets/notifications/messagetemplate/delete/<int:pk>/": [
        Case(lambda s: f"/admin/snippets/notifications/messagetemplate/delete/{s.template.pk}/", staff(200, H),
             post=staff_post(DONE, H), data={}),
    ],
    "admin/tips/": [Case("/admin/tips/", staff())],
    "admin/tips/bulk/": [
        Case("/admin/tips/bulk/", staff(405, 405), post=staff_post(),
             data=lambda s: {"post": [s.post.pk], "decision": "approve"}),
    ],
    "admin/tips/posts/<int:pk>/": [
        Case(lambda s: f"/admin/tips/posts/{s.post.pk}/", staff(), post=staff_post(),
             data={"action": "approve", "body": "承認前に直した本文", "reason": ""}),
    ],
    "admin/tips/settings/": [Case("/admin/tips/settings/", staff(200, H), post=staff_post(SHOWN, H), data={})],
    "admin/tips/topics/": [Case("/admin/tips/topics/", staff())],
    "admin/tips/topics/results/": [Case("/admin/tips/topics/results/", staff())],
    "admin/tips/topics/new/": [
        Case("/admin/tips/topics/new/", staff(), post=staff_post(),
             data={"title": "新しいお題", "description": "", "origin": "other", "opens_at": "2026-01-01T09:00",
                   "closes_at": ""}),
    ],
    "admin/tips/topics/edit/<int:pk>/": [
        Case(lambda s: f"/admin/tips/topics/edit/{s.topic.pk}/", staff(), post=staff_post(),
             data={"title": "直したお題", "description": "", "origin": "other", "opens_at": "2026-01-01T09:00",
                   "closes_at": ""}),
    ],
    "admin/tips/topics/close/<int:pk>/": [
        Case(lambda s: f"/admin/tips/topics/close/{s.topic.pk}/", staff(405, 405), post=staff_post(), data={}),
    ],
    "admin/feedback/": [
        Case("/admin/feedback/", staff()),
        Case("/admin/feedback/?export=csv", staff()),
    ],
    "admin/feedback/results/": [Case("/admin/feedback/results/", staff())],
    "admin/feedback/<int:pk>/": [
        Case(lambda s: f"/admin/feedback/{s.opinion.pk}/", staff(), post=staff_post(),
             data={"status": "in_progress", "internal_notes": "確認中"}),
    ],
    "admin/meetings/": [Case("/admin/meetings/", staff())],
    "admin/meetings/add/": [Case("/admin/meetings/add/", staff(), post=staff_post(SHOWN, SHOWN), data={})],
    "admin/meetings/roster-template/": [Case("/admin/meetings/roster-template/", staff())],
    "admin/meetings/center-list/": [
        Case("/admin/meetings/center-list/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/meetings/<int:pk>/": [Case(lambda s: f"/admin/meetings/{s.meeting.pk}/", staff())],
    "admin/meetings/<int:pk>/edit/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/edit/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/meetings/<int:pk>/roster/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/roster/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/meetings/<int:pk>/participants/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/participants/", staff(), post=staff_post(),
             data=lambda s: {"half": "first", "shown": [s.participant.pk], "present": [s.participant.pk]}),
    ],
    # a town meeting: the page says 担当区分 is not used there, the POST is refused and shown again
    "admin/meetings/<int:pk>/roles/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/roles/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/meetings/<int:pk>/summaries/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/summaries/", staff(), post=staff_post(), data={}),
    ],
    "admin/meetings/<int:pk>/rooms/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/rooms/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    "admin/meetings/<int:pk>/rooms/assign/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/rooms/assign/", staff(405, 405), post=staff_post(), data={}),
    ],
    "admin/meetings/<int:pk>/rooms/<int:room_pk>/sheet/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/rooms/{s.room.pk}/sheet/", staff()),
    ],
    "admin/meetings/<int:pk>/goals/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/goals/", staff(), post=staff_post(), data={}),
    ],
    "admin/meetings/<int:pk>/invitations/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/invitations/", staff(), post=staff_post(),
             data={"half": "first"}),
    ],
    "admin/meetings/<int:pk>/download/<slug:what>/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/download/groups/", staff()),
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/download/zoom/?room={s.room.pk}", staff()),
    ],
    "admin/meetings/<int:pk>/grouping/": [Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/", staff())],
    "admin/meetings/<int:pk>/grouping/propose/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/propose/", staff(405, 405), post=staff_post(),
             data={"confirm_replace": "1"}),
    ],
    "admin/meetings/<int:pk>/grouping/move-participant/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/move-participant/", staff(405, 405),
             post=staff_post(), data=lambda s: {"participant": s.participant.pk, "to_group": "2"}),
    ],
    "admin/meetings/<int:pk>/grouping/move-local-government/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/move-local-government/", staff(405, 405),
             post=staff_post(),
             data=lambda s: {"local_government": s.participant.local_government_id, "to_group": "2"}),
    ],
    "admin/meetings/<int:pk>/grouping/groups/add/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/groups/add/", staff(405, 405), post=staff_post(),
             data={}),
    ],
    "admin/meetings/<int:pk>/grouping/groups/<int:group_pk>/delete/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/groups/{s.empty_group.pk}/delete/", staff(405, 405),
             post=staff_post(), data={}),
    ],
    "admin/meetings/<int:pk>/grouping/approve/": [  # the screen again, with the rules the groups break
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/approve/", staff(405, 405),
             post=staff_post(SHOWN, SHOWN), data={"confirm_violations": "1"}),
    ],
    "admin/meetings/<int:pk>/grouping/withdraw/": [  # the screen again: nothing approved to withdraw
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/grouping/withdraw/", staff(405, 405),
             post=staff_post(SHOWN, SHOWN), data={}),
    ],
    # 「アクセス解析」 (kokasen/analytics, decision 0051): 管理者 and 受託者.
    "admin/analytics/": [Case("/admin/analytics/?from=2026-11-01&to=2026-11-30", staff())],
    "admin/analytics/download/<slug:key>.<str:fmt>": [
        Case("/admin/analytics/download/pages.csv?from=2026-11-01&to=2026-11-30", staff()),
        Case("/admin/analytics/download/all.xlsx", staff()),
        Case("/admin/analytics/download/pages.pdf", staff(404, 404)),
    ],
    # 「運用・セキュリティ」 (kokasen/ops, decision 0030): 管理者 and 受託者.
    "admin/ops/": [Case("/admin/ops/", staff())],
    "admin/ops/alerts/<int:pk>/": [Case(lambda s: f"/admin/ops/alerts/{s.alert.pk}/", staff())],
    "admin/ops/alerts/<int:pk>/acknowledge/": [
        Case(lambda s: f"/admin/ops/alerts/{s.alert.pk}/acknowledge/", staff(405, 405), post=staff_post(),
             data={"note": "fail2ban が遮断したことを確認しました。"}),
    ],
    "admin/ops/history/": [Case("/admin/ops/history/?rule=scanner", staff())],
    "admin/ops/audit/": [Case("/admin/ops/audit/?action=login.&since=2026-01-01", staff())],
    # Emergency contacts and incidents (decision 0034).
    "admin/ops/contacts/": [Case("/admin/ops/contacts/", staff())],
    "admin/ops/contacts/add/": [
        Case("/admin/ops/contacts/add/", staff(), post=staff_post(),
             data={"position": "2", "role": "受託者 副責任者", "name": "確認 花子", "phone": "03-1111-1111",
                   "active": "on"}),
    ],
    "admin/ops/contacts/<int:pk>/": [
        Case(lambda s: f"/admin/ops/contacts/{s.contact.pk}/", staff(), post=staff_post(),
             data={"position": "1", "role": "受託者 運用責任者", "name": "確認 太郎", "phone": "03-2222-2222",
                   "active": "on"}),
    ],
    "admin/ops/contacts/<int:pk>/delete/": [
        Case(lambda s: f"/admin/ops/contacts/{s.contact.pk}/delete/", staff(405, 405), post=staff_post(), data={}),
    ],
    "admin/ops/incidents/": [Case("/admin/ops/incidents/", staff())],
    "admin/ops/incidents/add/": [
        Case("/admin/ops/incidents/add/", staff(), post=staff_post(),
             data={"title": "確認の事故", "kind": "dos", "detected_at": "2026-01-05T10:00"}),
    ],
    "admin/ops/incidents/<int:pk>/": [Case(lambda s: f"/admin/ops/incidents/{s.incident.pk}/", staff())],
    "admin/ops/incidents/<int:pk>/edit/": [
        Case(lambda s: f"/admin/ops/incidents/{s.incident.pk}/edit/", staff(), post=staff_post(),
             data={"title": "確認の事故（更新）", "kind": "outage", "detected_at": "2026-01-05T10:00"}),
    ],
    "admin/ops/incidents/<int:pk>/entries/": [
        Case(lambda s: f"/admin/ops/incidents/{s.incident.pk}/entries/", staff(405, 405), post=staff_post(),
             data={"at": "2026-01-05T10:10", "text": "再起動した。"}),
    ],
    "admin/ops/incidents/<int:pk>/report.docx": [
        Case(lambda s: f"/admin/ops/incidents/{s.incident.pk}/report.docx", staff()),
    ],
    "admin/ops/incidents/<int:pk>/report.pdf": [
        Case(lambda s: f"/admin/ops/incidents/{s.incident.pk}/report.pdf", staff()),
    ],
    # 「静的サイトの書き出し」 (kokasen/static_export, decision 0054): 管理者 and 受託者.
    "admin/static-export/": [Case("/admin/static-export/", staff())],
    "admin/static-export/start/": [
        Case("/admin/static-export/start/", staff(405, 405), post=staff_post(),
             data={"structure": "grouped", "design": "warm"}),
    ],
    "admin/static-export/builds/<int:pk>/download/": [
        Case(lambda s: f"/admin/static-export/builds/{s.export_build.pk}/download/", staff()),
    ],
    "admin/static-export/compare/": [Case("/admin/static-export/compare/?left=flat-standard&right=grouped-warm", staff())],
    "admin/static-export/preview/<str:structure>/<str:design>/<int:page_id>/": [
        Case(lambda s: f"/admin/static-export/preview/grouped/warm/{HomePage.objects.get().pk}/", staff()),
        Case(lambda s: f"/admin/static-export/preview/grouped/warm/{s.members_home.pk}/", staff(404, 404)),
    ],
    # The monthly report (decision 0039).
    "admin/ops/reports/": [Case("/admin/ops/reports/", staff())],
    "admin/ops/reports/<int:year>/<int:month>/": [Case("/admin/ops/reports/2026/11/", staff())],
    "admin/ops/reports/<int:year>/<int:month>/report.docx": [Case("/admin/ops/reports/2026/11/report.docx", staff())],
    "admin/ops/reports/<int:year>/<int:month>/report.pdf": [Case("/admin/ops/reports/2026/11/report.pdf", staff())],
    # The 効果分析報告書 (decision 0052).
    "admin/analytics/reports/": [Case("/admin/analytics/reports/", staff())],
    "admin/analytics/reports/generate/": [
        Case("/admin/analytics/reports/generate/", staff(405, 405), post=staff_post(),
             data={"start": "2026-11-01", "end": "2026-11-30"}),
    ],
    "admin/analytics/reports/settings/": [
        Case("/admin/analytics/reports/settings/", staff(), post=staff_post(),
             data={"title": "効果分析報告書", "recipient": "こども家庭庁 御中", "issuer": "運営事務局",
                   "sections": ["totals", "meeting_visits"]}),
    ],
    "admin/analytics/reports/<int:pk>/": [Case(lambda s: f"/admin/analytics/reports/{s.analytics_report.pk}/", staff())],
    "admin/analytics/reports/<int:pk>/report.docx": [
        Case(lambda s: f"/admin/analytics/reports/{s.analytics_report.pk}/report.docx", staff()),
    ],
    "admin/analytics/reports/<int:pk>/report.pdf": [
        Case(lambda s: f"/admin/analytics/reports/{s.analytics_report.pk}/report.pdf", staff()),
    ],
    "admin/analytics/reports/<int:pk>/report.xlsx": [
        Case(lambda s: f"/admin/analytics/reports/{s.analytics_report.pk}/report.xlsx", staff()),
    ],
    "admin/meetings/report/": [Case("/admin/meetings/report/", staff())],
    "admin/meetings/<int:pk>/report/": [Case(lambda s: f"/admin/meetings/{s.meeting.pk}/report/", staff())],
    "admin/meetings/<int:pk>/report/survey/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/report/survey/", staff(405, 405), post=staff_post(SHOWN, SHOWN),
             data={}),
    ],
    "admin/meetings/<int:pk>/report/survey/delete/": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/report/survey/delete/", staff(405, 405), post=staff_post(),
             data={"half": "first"}),
    ],
    "admin/meetings/<int:pk>/report/report.docx": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/report/report.docx", staff()),
    ],
    "admin/meetings/<int:pk>/report/report.pdf": [
        Case(lambda s: f"/admin/meetings/{s.meeting.pk}/report/report.pdf", staff()),
    ],
    # 「アクセスログの取り込み」 (kokasen/analytics, decision 0057): 管理者 and 受託者; a POST without a file
    # shows the form again.
    "admin/analytics/access-logs/": [
        Case("/admin/analytics/access-logs/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
    ],
    # --- Wagtail's admin: its routes that answer before its access check ---------------------------
    # Anyone may fetch the icons, the translations and the password-reset pages (a POST to them is
    # refused unread by the body gate, as to every admin URL); an unknown admin URL is a 404.
    "admin/sprite/": [Case("/admin/sprite/", (200,) * 6 + (T,))],
    "admin/jsi18n/": [Case("/admin/jsi18n/", (200,) * 6 + (T,))],
    "admin/password_reset/": [
        Case("/admin/password_reset/", (200,) * 6 + (T,), post=(403, 403, 403, DONE, DONE, 403, T),
             data={"email": "nobody@example.jp"}),
    ],
    "admin/password_reset/done/": [Case("/admin/password_reset/done/", (200,) * 6 + (T,))],
    "admin/password_reset/confirm/<uidb64>/<token>/": [
        Case("/admin/password_reset/confirm/MQ/not-a-token/", (200,) * 6 + (T,)),
    ],
    "admin/password_reset/complete/": [Case("/admin/password_reset/complete/", (200,) * 6 + (T,))],
    # Wagtail's catch-all: its own login redirect (Django's permission_required), then ours.
    "admin/.*/$": [Case("/admin/no-such-screen/", (to("/admin/login/"),) * 3 + (404, 404, to("/admin/login/"), T))],
    # Django's admin: its logout sends whoever may not use it to its index (then to log in).
    "django-admin/logout/": [Case("/django-admin/logout/", (to("/django-admin/"),) * 6 + (T,))],
}
# fmt: on


@dataclass
class PrefixRule:
    """The routes under ``prefix`` whose views are not ours: ``refused`` (GET, POST) is what the
    personas who may not use that admin get on every one of them (None: a persona checked only
    on the ``samples``, which also give the staff personas' answers)."""

    prefix: str
    refused_get: tuple
    refused_post: tuple
    samples: list[Case]


N = None
PREFIX_RULES = [
    PrefixRule(
        "admin/",
        refused_get=(L, L, L, N, N, L, T),
        refused_post=(403, 403, 403, N, N, 403, T),
        samples=[
            Case("/admin/", staff()),
            Case("/admin/pages/", staff()),
            Case("/admin/documents/", staff()),
            Case("/admin/images/", staff()),
            Case("/admin/snippets/pages/menugroup/", staff(200, H)),  # メニュー分類: 管理者 only
            Case("/admin/users/", staff(H, H)),  # superusers only
            Case("/admin/documents/multiple/add/", staff(), post=staff_post(SHOWN, SHOWN), data={}),
        ],
    ),
    # Django's admin is for superusers (is_staff): nobody of these personas gets in.
    PrefixRule(
        "django-admin/",
        refused_get=(DJ_LOGIN,) * 6 + (T,),
        refused_post=(403,) * 6 + (T,),
        samples=[],
    ),
]

# Routes that no request reaches: an earlier route answers their URLs (route → that route).
SHADOWED = {
    r"documents/(\d+)/(.*)$": r"^documents/(\d+)/(.*)$",
    "documents/authenticate_with_password/<int:restriction_id>/": "^documents/authenticate_with_password/",
    "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/": (
        "^_util/authenticate_with_password/"
    ),
}


# --- walking the URLconf -------------------------------------------------------------------------


def _join(route1: str, route2: str) -> str:
    """As Django joins the routes of nested patterns (``URLResolver._join_route``)."""
    return route1 + route2.removeprefix("^") if route1 else route2


def all_routes() -> list[tuple[str, str]]:
    """(route, module of the view) for every URL pattern, in resolution order."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, _join(prefix, str(pattern.pattern)))
            else:
                view = getattr(pattern.callback, "view_class", pattern.callback)
                yield _join(prefix, str(pattern.pattern)), view.__module__

    return list(walk(get_resolver().url_patterns, ""))


def _sample_group(body: str) -> str:
    first = body.split("|")[0]
    return {r"\d+": "1", ".*": "x", "": ""}.get(first, first)


def sample_url(route: str) -> str:
    """A URL for ``route`` with placeholder arguments (1 for numbers, x for text)."""
    path = re.sub(r"\(\?P<\w+>([^()]*)\)", lambda m: _sample_group(m.group(1)), route)
    path = re.sub(r"\(([^()?]*)\)", lambda m: _sample_group(m.group(1)), path)
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: "1" if m.group(1) == "int" else "x", path)
    path = path.replace(r"\d+", "1").replace(".*", "x").replace("\\", "")
    return "/" + path.replace("^", "").replace("$", "")


def _route_of(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).route
    except Resolver404:
        return None


def rule_for(route: str, module: str):
    """The rows of ``route``, "shadowed", a PrefixRule, or None (no rule)."""
    if route in ROWS:
        return ROWS[route]
    if route in SHADOWED:
        return "shadowed"
    if not module.startswith("kokasen."):
        for rule in PREFIX_RULES:
            if route.startswith(rule.prefix):
                return rule
    return None


def test_every_route_has_a_rule():
    routes = all_routes()
    missing = [f"{route}  (view in {module})" for route, module in routes if rule_for(route, module) is None]
    assert not missing, "URL routes without a row in the access matrix (kokasen/core/tests/test_url_access.py):\n" + (
        "\n".join(missing)
    )
    known = {route for route, _ in routes}
    stale = sorted(set(ROWS) - known) + sorted(set(SHADOWED) - known)
    assert not stale, f"rows for routes that no longer exist: {stale}"
    for route, answering in SHADOWED.items():
        assert _route_of(sample_url(route)) == answering, f"{route} is not answered by {answering}"


# --- requesting ------------------------------------------------------------------------------------


def describe(response, url: str):
    """The answer in the matrix's words."""
    if response.status_code not in (301, 302):
        return response.status_code
    location = response["Location"]
    parts = urlsplit(location)
    next_url = parse_qs(parts.query).get("next", [None])[0]
    if parts.path == "/login/" and next_url == url:
        return LOGIN
    if parts.path == "/login/totp/" and next_url == url:
        return TOTP
    if parts.path == "/django-admin/login/" and next_url == url:
        return DJ_LOGIN
    if location == "/admin/":
        return HOME
    return to(parts.path)


def matches(got, expected) -> bool:
    if expected == SHOWN:
        return got in (200, 400)
    if expected == READY:
        return got in (200, 503)
    if expected == DONE:
        return isinstance(got, tuple) and got[1] not in ("/login/", "/login/totp/", "/django-admin/login/", "/admin/")
    return got == expected


def rows_written() -> int:
    """How many rows this database connection has inserted, changed or deleted so far (any
    table): one cheap question instead of reading every table twice per POST."""
    if connection.vendor == "sqlite":
        return connection.connection.total_changes
    with connection.cursor() as cursor:  # PostgreSQL: this transaction's counts
        cursor.execute("SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_all_tables")
        return cursor.fetchone()[0]


def sessions(scene) -> dict[str, Client]:
    clients = {name: Client() for name in PERSONAS}
    login_member(clients["member_a"], scene.member_a)
    login_member(clients["member_b"], scene.member_b)
    login_staff(clients["agency_admin"], scene.agency_admin)
    login_staff(clients["operator"], scene.operator)
    disabled = make_member("012025")
    login_member(clients["disabled"], disabled)
    get_user_model().objects.filter(pk=disabled.pk).update(is_active=False)  # 利用停止 after logging in
    unverified = make_staff(roles.AGENCY_ADMIN, username="unverified-admin")
    clients["unverified"].force_login(unverified)  # the password step only
    for user in (scene.agency_admin, scene.operator, unverified):
        # Wagtail writes a user's profile (display preferences) the first time it draws a page
        # for them, refusals included: not a change a POST made.
        UserProfile.get_for_user(user)
    return clients


def _value(value, scene):
    return value(scene) if callable(value) else value


def _headers(case) -> dict:
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (case.headers or {}).items()}


def finish(response) -> None:
    """Close a streamed answer left unread (a file handle). The test client has already closed
    every other one; closing again would send request_finished, whose close_old_connections
    drops the test's open transaction on PostgreSQL."""
    if not response.streaming:
        return
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def request(client, method, url, case, scene, *, expected):
    """One request; a POST inside a savepoint rolled back afterwards, with the session cookie
    put back, and checked to change nothing when ``expected`` is a refusal."""
    if method == "GET":
        response = client.get(url, **_headers(case))
        got = describe(response, url)
        finish(response)
        return got, None
    cookies = SimpleCookie(client.cookies.output(header="", sep=";"))
    data = _value(case.data, scene) or {}
    changed = None
    with transaction.atomic():
        before = rows_written()
        response = client.post(url, data, **_headers(case))
        got = describe(response, url)
        finish(response)
        written = rows_written() - before
        if expected in REFUSALS and written:
            changed = f"a refused POST wrote {written} rows"
        transaction.set_rollback(True)
    client.cookies = cookies
    return got, changed


def check(clients, scene, url, case_get, case_post, case, where, problems):
    for method, expected_row in (("GET", case_get), ("POST", case_post)):
        if expected_row is None:
            continue
        for persona, expected in zip(PERSONAS, expected_row, strict=True):
            if expected is None:
                continue
            got, changed = request(clients[persona], method, url, case, scene, expected=expected)
            if not matches(got, expected):
                problems.append(f"{where}  {method} {url}  {persona}: expected {expected!r}, got {got!r}")
            if changed:
                problems.append(f"{where}  {method} {url}  {persona}: {changed}")


def test_every_url_answers_every_persona_as_the_matrix_says(demo_site, member_a, member_b, agency_admin, operator):
    scene = Scene(member_a=member_a, member_b=member_b, agency_admin=agency_admin, operator=operator)
    clients = sessions(scene)
    problems: list[str] = []
    requested = set()
    for route, module in all_routes():
        rule = rule_for(route, module)
        if isinstance(rule, list):
            if route in requested:
                continue  # the same route twice (Wagtail's admin/login/ behind ours): one URL
            requested.add(route)
            for case in rule:
                url = _value(case.url, scene)
                assert resolve(urlsplit(url).path).route == route, (url, route)
                check(clients, scene, url, case.get, case.post, case, route, problems)
        elif isinstance(rule, PrefixRule):
            url = sample_url(route)
            if _route_of(url) != route:
                problems.append(f"{route}: the placeholder URL {url} does not reach it")
                continue
            check(clients, scene, url, rule.refused_get, rule.refused_post, Case(url, ()), route, problems)
    for rule in PREFIX_RULES:
        for case in rule.samples:
            url = _value(case.url, scene)
            check(clients, scene, url, case.get, case.post, case, f"sample of {rule.prefix}", problems)
    assert not problems, f"{len(problems)} answers differ from the matrix:\n" + "\n".join(problems)
