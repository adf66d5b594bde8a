"""Admin screen 「グループ分け」 of one meeting (issue 5, item 4): propose with the engine, move people
or whole local governments between groups, see every rule each group breaks next to it, approve.

Every change is a plain HTML form posted here (no JavaScript needed); a refusal re-renders the screen
with its reasons (``admin_shared/refused.html``, status 400), successes redirect back to it. Only 管理者 and 受託者 with a
verified TOTP session; the services check the role again and write the audit trail.

Moves (decision 0047): the screen has one move form; each participant and local-government row has a
「選ぶ」 radio button belonging to it. ``static/js/meetings-grouping.js`` sends that form with the
header ``X-Grouping-Partial: 1``; the move views then answer with ``grouping_partial.html`` (the message
and only the parts the move changed) instead of a redirect, and a refusal with the same, status 400.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from kokasen.accounts import admin_screens
from kokasen.accounts.access import staff_required
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment

from .admin_views import meeting_parents
from .ids import as_id
from .models import Group, Meeting, MeetingKind, Participant
from .roles import ROLES
from .services import grouping as services

HISTORY_LIMIT = 20
PARTIAL_HEADER = "X-Grouping-Partial"


def _context(meeting: Meeting, /, **extra) -> dict:
    title = f"グループ分け（{meeting.title}）"
    return admin_screens.screen_context(title, icon="group", parents=meeting_parents(meeting), **extra)


def _screen_context(meeting: Meeting, report, **extra) -> dict:
    approvals = list(meeting.approvals.select_related("approved_by").order_by("-approved_at", "-pk")[:HISTORY_LIMIT])
    context = _context(
        meeting,
        meeting=meeting,
        report=report,
        is_prefecture=meeting.kind == MeetingKind.PREFECTURE,
        roles=ROLES,
        group_numbers=[g.number for g in report.groups],
        replace_reasons=services.propose_needs_confirmation(meeting),
        confirm_replace_label=services.CONFIRM_REPLACE_LABEL,
        confirm_violations_label=services.CONFIRM_VIOLATIONS_LABEL,
        approvals=approvals,
        approved_by=meeting.grouping_approved_by,
        last_approval=approvals[0] if approvals else None,
        proposal=report.proposal,
        **extra,
    )
    return context


def _screen(request, meeting: Meeting, *, refused: Refused | None = None, lead: str = "", status=200):
    context = _screen_context(meeting, services.current_report(meeting), refused=refused, lead=lead)
    return TemplateResponse(request, "meetings/admin/grouping_screen.html", context, status=status)


def _wants_partial(request) -> bool:
    return request.headers.get(PARTIAL_HEADER) == "1"


def _partial(request, meeting: Meeting, *, changed: set[int], message: str = "", refused: Refused | None = None):
    """The answer to a move sent by the screen's JavaScript: the message and the changed parts
    (``changed``: numbers of the groups whose members or rule violations may have changed)."""
    if refused is not None:
        context = {"meeting": meeting, "refused": refused}
        return TemplateResponse(request, "meetings/admin/grouping_partial.html", context, status=400)
    meeting.refresh_from_db()  # the move cleared the approval
    report = services.current_report(meeting)
    changed_groups = [g for g in report.groups if g.number in changed]
    context = _screen_context(meeting, report, message=message, changed_groups=changed_groups)
    return TemplateResponse(request, "meetings/admin/grouping_partial.html", context)


def _groups_of(meeting: Meeting, local_government) -> set[int]:
    """Numbers of the groups with somebody of this local government (their 「ほかにグループNにも」
    notes and split violations change when one of them moves)."""
    people = Participant.objects.filter(meeting=meeting, local_government=local_government, group__isnull=False)
    return set(people.values_list("group__number", flat=True))


def _back(meeting: Meeting, anchor: str = ""):
    url = reverse("meetings_admin:grouping", args=[meeting.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _posted_number(request, name: str) -> int | None:
    """The POSTed field as an id (:func:`ids.as_id`): a garbled id is the screen's
    「見つかりません」 (400), never a 500."""
    return as_id(request.POST.get(name))


def _target_group(request, meeting: Meeting) -> int:
    number = _posted_number(request, "to_group")
    if number is None:
        raise Refused("移動先のグループの番号を選ぶか入力してください。")
    return number


def _refused(request, meeting, refused: Refused, lead: str = "") -> TemplateResponse:
    if _wants_partial(request):
        return _partial(request, meeting, changed=set(), refused=refused)
    return _screen(request, meeting, refused=refused, lead=lead, status=400)


@require_GET
@staff_required
def grouping_screen(request, pk):
    return _screen(request, get_object_or_404(Meeting, pk=pk))


@require_POST
@staff_required
def propose(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    reasons = services.propose_needs_confirmation(meeting)
    if reasons and request.POST.get("confirm_replace") != "1":
        confirm = f"提案し直すには「{services.CONFIRM_REPLACE_LABEL}」にチェックを入れてください。"
        return _refused(request, meeting, Refused(*reasons, confirm))
    try:
        outcome = services.grouping_propose(meeting=meeting, acting_user=request.user, request=request)
    except Refused as refused:  # the engine's: no valid grouping for this roster
        return _refused(request, meeting, refused, lead="グループ分けを提案できませんでした。何も変更していません。")
    text = f"{outcome.people}人を{outcome.groups}グループに分けました。"
    if outcome.violations:
        text += f"ルールに合わない点が{len(outcome.violations)}件あります。各グループの表示を確認してください。"
    messages.success(request, text)
    if outcome.rooms_cleared:
        messages.warning(
            request,
            "グループを作り直したため、会議室（URL）への割り当ては解除されました。会議室の割り当てをやり直してください。",
        )
    if outcome.approval_cleared:
        messages.warning(request, "これまでの承認は取り消されました（承認の記録は残っています）。")
    return _back(meeting)


@require_POST
@staff_required
def move_participant(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    participant = Participant.objects.filter(meeting=meeting, pk=_posted_number(request, "participant") or 0).first()
    try:
        if participant is None:
            raise Refused("参加者が見つかりません。画面を読み込み直してください。")
        to_number = _target_group(request, meeting)
        changed = _groups_of(meeting, participant.local_government) | {to_number}
        services.participant_move(
            meeting=meeting, participant=participant, to_group=to_number, acting_user=request.user, request=request
        )
    except Refused as refused:
        return _refused(request, meeting, refused)
    text = f"参加者{participant.number}（{participant.local_government}）をグループ{to_number}に移動しました。"
    if _wants_partial(request):
        return _partial(request, meeting, changed=changed, message=text)
    messages.success(request, text)
    return _back(meeting, f"group-{to_number}")


@require_POST
@staff_required
def move_local_government(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    # The screen's radio buttons send 「pk/担当区分」 for prefecture meetings; a separate
    # ``department`` field is read too.
    lg_text, slash, posted_department = (request.POST.get("local_government") or "").partition("/")
    lg = LocalGovernment.objects.filter(pk=as_id(lg_text) or 0).first()
    department = None
    if meeting.kind == MeetingKind.PREFECTURE:
        department = posted_department if slash else request.POST.get("department")
    try:
        if lg is None:
            raise Refused("団体が見つかりません。画面を読み込み直してください。")
        to_number = _target_group(request, meeting)
        changed = _groups_of(meeting, lg) | {to_number}
        moved = services.local_government_move(
            meeting=meeting,
            local_government=lg,
            to_group=to_number,
            department=department,
            acting_user=request.user,
            request=request,
        )
    except Refused as refused:
        return _refused(request, meeting, refused)
    text = f"{lg}の参加者{len(moved)}人をグループ{to_number}に移動しました。"
    if _wants_partial(request):
        return _partial(request, meeting, changed=changed, message=text)
    messages.success(request, text)
    return _back(meeting, f"group-{to_number}")


@require_POST
@staff_required
def group_add(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    group = services.group_create(
        meeting=meeting, acting_user=request.user, department=request.POST.get("department", ""), request=request
    )
    messages.success(request, f"空のグループ{group.number}を追加しました。参加者を移動してください。")
    return _back(meeting, f"group-{group.number}")


@require_POST
@staff_required
def group_delete(request, pk, group_pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    group = get_object_or_404(Group, pk=group_pk, meeting=meeting)
    number = group.number
    try:
        services.group_delete_empty(meeting=meeting, group=group, acting_user=request.user, request=request)
    except Refused as refused:
        return _refused(request, meeting, refused)
    messages.success(request, f"空のグループ{number}を削除しました。後ろのグループの番号を1つずつ詰めています。")
    return _back(meeting)


@require_POST
@staff_required
def approve(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    try:
        approval = services.grouping_approve(
            meeting=meeting,
            acting_user=request.user,
            confirm_violations=request.POST.get("confirm_violations") == "1",
            fingerprint=request.POST.get("fingerprint", ""),
            request=request,
        )
    except Refused as refused:
        return _refused(request, meeting, refused)
    text = "グループ分けを承認しました。"
    if approval.violation_count:
        text += f"ルールに合わない点{approval.violation_count}件を確認済みとして記録しました。"
    messages.success(request, text)
    return _back(meeting, "approval")


@require_POST
@staff_required
def approval_withdraw(request, pk):
    meeting = get_object_or_404(Meeting, pk=pk)
    try:
        services.grouping_approval_withdraw(meeting=meeting, acting_user=request.user, request=request)
    except Refused as refused:
        return _refused(request, meeting, refused)
    messages.success(request, "グループ分けの承認を取り消しました（承認の記録は残っています）。")
    return _back(meeting, "approval")


urlpatterns = [
    path("<int:pk>/grouping/", grouping_screen, name="grouping"),
    path("<int:pk>/grouping/propose/", propose, name="grouping_propose"),
    path("<int:pk>/grouping/move-participant/", move_participant, name="grouping_move_participant"),
    path("<int:pk>/grouping/move-local-government/", move_local_government, name="grouping_move_local_government"),
    path("<int:pk>/grouping/groups/add/", group_add, name="grouping_group_add"),
    path("<int:pk>/grouping/groups/<int:group_pk>/delete/", group_delete, name="grouping_group_delete"),
    path("<int:pk>/grouping/approve/", approve, name="grouping_approve"),
    path("<int:pk>/grouping/withdraw/", approval_withdraw, name="grouping_approval_withdraw"),
]
