"""Garbage sent to every meetings admin URL is never a 500 (issue 16, item 4). The URLs are
enumerated from the URLconf (namespace ``meetings_admin``), so a new screen is covered the day it
is added. Each is requested with GET and POST, with garbage in every field the screens read and
in the query string, as a signed-in 管理者."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kokasen.meetings.models import Group, MeetingKind
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.testing import login_staff

from .test_grouping_service import west_town_codes

FIELDS = (
    "participant",
    "local_government",
    "to_group",
    "department",
    "group",
    "room",
    "half",
    "kind",
    "meeting",
    "format",
    "shown",
    "present",
    "confirm_replace",
    "confirm_violations",
    "fingerprint",
    "title",
    "area",
    "min_size",
    "max_size",
    "url",
    "file",
)
GARBAGE = ("abc", "１２x", "-1", "²", "9" * 40, "' OR 1=1 --")


def meetings_admin_patterns() -> list[tuple[str, URLPattern]]:
    """(name, pattern) of every URL in the meetings_admin namespace."""
    found = []

    def walk(resolver, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, entry.namespace or namespace)
            elif namespace == "meetings_admin" and entry.name:
                found.append((entry.name, entry))

    walk(get_resolver(), None)
    return found


def urls_for(name, pattern, meeting, group) -> list[str]:
    room = meeting.rooms.get_or_create(number=1, defaults={"name": "会議室1"})[0]
    kwargs_of = {"pk": meeting.pk, "group_pk": group.pk, "room_pk": room.pk}
    params = list(pattern.pattern.converters)
    if "what" in params:
        from kokasen.meetings.admin_views import DOWNLOADS

        return [
            reverse(f"meetings_admin:{name}", kwargs={"pk": meeting.pk, "what": what})
            for what in [*DOWNLOADS, "garbage"]
        ]
    return [reverse(f"meetings_admin:{name}", kwargs={p: kwargs_of[p] for p in params})]


@pytest.fixture
def scene(db, agency_admin):
    meeting = make_meeting(MeetingKind.TOWN)
    add_participants(
        meeting, west_town_codes(4), per_local_government=3, has_center=lambda lg: lg.code.endswith(("2", "4", "6"))
    )
    group = Group.objects.create(meeting=meeting, number=1, name="グループ1")
    meeting.participants.update(group=group)
    client = Client(raise_request_exception=False)
    login_staff(client, agency_admin)
    return meeting, group, client


def test_the_urlconf_lists_the_meetings_admin_screens():
    names = {name for name, _ in meetings_admin_patterns()}
    assert {"index", "detail", "grouping", "grouping_move_participant", "report_survey", "download"} <= names
    assert len(names) >= 25


def test_garbage_to_every_meetings_admin_url_is_never_a_500(scene):
    meeting, group, client = scene
    failures = []
    requests = 0
    for name, pattern in meetings_admin_patterns():
        for url in urls_for(name, pattern, meeting, group):
            for value in GARBAGE:
                data = {field: value for field in FIELDS}
                for method in (client.get, client.post):
                    response = method(url, data)
                    requests += 1
                    if response.status_code >= 500:
                        failures.append((method.__name__, url, repr(value), response.status_code))
    assert requests > 300  # about 30 URLs, both methods, every garbage value
    assert failures == []


@pytest.mark.parametrize("value", ["abc", "²", "9" * 40, "-3"])
@pytest.mark.parametrize(
    "name, field, message",
    [
        ("grouping_move_participant", "participant", "参加者が見つかりません。画面を読み込み直してください。"),
        ("grouping_move_local_government", "local_government", "団体が見つかりません。画面を読み込み直してください。"),
    ],
)
def test_a_garbled_id_in_a_grouping_post_is_a_400_with_the_screens_message(scene, name, field, message, value):
    meeting, _, client = scene
    response = client.post(reverse(f"meetings_admin:{name}", args=[meeting.pk]), {field: value, "to_group": "1"})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_garbled_target_group_is_a_400_with_the_screens_message(scene):
    meeting, _, client = scene
    participant = meeting.participants.order_by("number").first()
    url = reverse("meetings_admin:grouping_move_participant", args=[meeting.pk])
    response = client.post(url, {"participant": participant.pk, "to_group": "²"})
    assert response.status_code == 400
    assert "移動先のグループの番号を選ぶか入力してください。" in response.content.decode()
    # full-width digits as typed on a Japanese keyboard still work
    Group.objects.create(meeting=meeting, number=2, name="グループ2")
    assert client.post(url, {"participant": participant.pk, "to_group": "２"}).status_code == 302
    participant.refresh_from_db()
    assert participant.group.number == 2


# --- the roster and survey services check the acting user's role like every other meetings service


def services_that_write(meeting):
    from kokasen.meetings.models import Half
    from kokasen.meetings.services import roster, survey

    return {
        "roster_import": lambda user: roster.roster_import(
            meeting=meeting, data=b"x", filename="r.csv", acting_user=user
        ),
        "center_list_import": lambda user: roster.center_list_import(data=b"x", filename="c.csv", acting_user=user),
        "survey_import": lambda user: survey.survey_import(
            meeting=meeting, half=Half.FIRST, data=b"x", filename="s.csv", acting_user=user
        ),
        "survey_delete": lambda user: survey.survey_delete(meeting=meeting, half=Half.FIRST, acting_user=user),
    }


def test_roster_and_survey_services_refuse_anyone_but_staff(db):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from kokasen.core.refusals import Refused
    from kokasen.testing import CODE_A, make_member

    meeting = make_meeting(MeetingKind.TOWN)
    member = make_member(CODE_A)
    for name, call in services_that_write(meeting).items():
        for user in (member, AnonymousUser()):
            with pytest.raises(PermissionDenied):
                call(user)
        if name != "survey_delete":  # the file is garbage: past the role check, refused for it
            from kokasen.accounts import roles
            from kokasen.testing import make_staff

            with pytest.raises(Refused):
                call(make_staff(roles.OPERATOR))
