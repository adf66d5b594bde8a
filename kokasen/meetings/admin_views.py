"""Wagtail admin screens of the exchange meetings (情報交換会), for 管理者 and 受託者 with TOTP
passed: the meetings list, a meeting's create/edit form (two sessions, case presentations), the
meeting's page (summary and links), roster and center-list uploads, the participants list with
attendance, rooms (会議URL) with facilitators, goals and progress, invitations and the
downloads. The grouping screen is admin_views_grouping.py, the report admin_views_report.py.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_POST

from kokasen.accounts import admin_screens
from kokasen.accounts.access import staff_required
from kokasen.core import refusals, spreadsheets
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused

from . import downloads, exports, selectors
from .centers import center_label
from .forms import (
    GOAL_MAX,
    GoalsForm,
    MeetingForm,
    PresentationFormSet,
    RoomFormSet,
    SessionForm,
    SummariesForm,
    UploadForm,
    presenting_local_governments,
)
from .ids import as_id, as_ids
from .models import Group, Half, Meeting, MeetingKind, MeetingTool, Room
from .roles import ROLES
from .services import invitations, meetings, rooms, roster
from .services import roles as department_roles


def _context(title: str, *, parents: tuple[tuple[str, str], ...] = (), **extra) -> dict:
    return admin_screens.screen_context(title, icon="group", parents=parents, **extra)


def meeting_parents(meeting: Meeting | None) -> tuple[tuple[str, str], ...]:
    """Breadcrumbs above a meeting's screens (shared by the grouping and report screens)."""
    parents = ((reverse("meetings_admin:index"), "情報交換会"),)
    if meeting is not None:
        parents += ((reverse("meetings_admin:detail", args=[meeting.pk]), meeting.title),)
    return parents


def _posted(request):
    """The POST data, or None for GET (an empty POST still binds the form and shows its errors)."""
    return request.POST if request.method == "POST" else None


def _meeting(pk) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("grouping_approved_by"), pk=pk)


# --- list, create, edit -----------------------------------------------------------------------


@staff_required
def index(request):
    rows = list(selectors.meetings_overview())
    return TemplateResponse(request, "meetings/admin/index.html", _context("情報交換会", meetings=rows))


def _forms(request, meeting: Meeting | None):
    data = request.POST if request.method == "POST" else None
    form = MeetingForm(data, instance=meeting)
    sessions = meetings.new_sessions(meeting)
    session_forms = {half: SessionForm(data, instance=sessions[half], prefix=half) for half in Half.values}
    formsets = {}
    if meeting is not None:
        lgs = presenting_local_governments(meeting.kind, meeting.area)
        formsets = {
            half: PresentationFormSet(
                data, instance=sessions[half], prefix=f"presentations-{half}", form_kwargs={"local_governments": lgs}
            )
            for half in Half.values
        }
    return form, session_forms, formsets


@staff_required
def meeting_edit(request, pk=None):
    meeting = _meeting(pk) if pk else None
    form, session_forms, formsets = _forms(request, meeting)
    status = 200
    if request.method == "POST":
        valid = [
            form.is_valid(),
            *(f.is_valid() for f in session_forms.values()),
            *(f.is_valid() for f in formsets.values()),
        ]
        if all(valid):
            try:
                saved = meetings.meeting_save(
                    form=form,
                    session_forms=session_forms,
                    presentation_formsets=formsets,
                    acting_user=request.user,
                    request=request,
                )
            except Refused as refused:
                refusals.show_on_form(form, refused)
            else:
                messages.success(request, f"「{saved.title}」を保存しました。")
                return redirect("meetings_admin:detail", saved.pk)
        status = 400
    title = f"{meeting.title}の編集" if meeting else "情報交換会の追加"
    parents = meeting_parents(meeting)
    halves = [(half, label, session_forms[half], formsets.get(half)) for half, label in Half.choices]
    context = _context(title, parents=parents, form=form, halves=halves, meeting=meeting)
    return TemplateResponse(request, "meetings/admin/meeting_form.html", context, status=status)


# --- a meeting's page -------------------------------------------------------------------------


@staff_required
def meeting_detail(request, pk):
    meeting = _meeting(pk)
    sessions = meetings.new_sessions(meeting)
    context = _context(
        meeting.title,
        parents=((reverse("meetings_admin:index"), "情報交換会"),),
        meeting=meeting,
        summary=selectors.meeting_summary(meeting),
        sessions=[
            (
                label,
                sessions[half],
                sessions[half].presentations.select_related("local_government", "material")
                if sessions[half].pk
                else [],
            )
            for half, label in Half.choices
        ],
        rooms=rooms.room_loads(meeting),
        downloads=[(key, label, per_room) for key, (label, _, _, per_room) in DOWNLOADS.items()],
    )
    return TemplateResponse(request, "meetings/admin/detail.html", context)


# --- uploads ----------------------------------------------------------------------------------


@staff_required
def roster_upload(request, pk):
    meeting = _meeting(pk)
    form = UploadForm(_posted(request), request.FILES if request.method == "POST" else None)
    context = _context("参加者名簿の取り込み", parents=meeting_parents(meeting), meeting=meeting, form=form)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = roster.roster_import(
                    meeting=meeting, data=upload.read(), filename=upload.name, acting_user=request.user, request=request
                )
            except Refused as refused:
                context.update(refused=refused, filename=upload.name)
            else:
                text = f"{upload.name} を取り込みました。参加者{result.participants}人（{result.local_governments}団体）です。"
                if result.replaced:
                    text += f"これまでの名簿（{result.replaced}人）と置き換えました。"
                if result.groups_removed:
                    text += f"作業中のグループ分け（{result.groups_removed}グループ）は削除しました。グループ分けをやり直してください。"
                messages.success(request, text)
                for notice in result.notices:
                    messages.info(request, f"{upload.name}：{notice}")
                if result.roles_pending:
                    messages.warning(
                        request,
                        f"担当区分が空欄の部署が{result.roles_pending}件あります。部署名から区分を提案しました。"
                        "「担当区分の確認」で確かめてから、グループ分けをしてください。",
                    )
                    return redirect("meetings_admin:roles", meeting.pk)
                if result.centers_unknown:
                    messages.warning(
                        request,
                        f"センター設置が分からない参加者が{result.centers_unknown}人います。"
                        "センター設置状況の一覧を取り込むか、名簿のセンター設置欄に記入して取り込み直してください。",
                    )
                return redirect("meetings_admin:detail", meeting.pk)
    return TemplateResponse(request, "meetings/admin/roster_upload.html", context, status=status)


@staff_required
def center_list_upload(request):
    meeting_id = as_id(request.GET.get("meeting"))
    meeting = Meeting.objects.filter(pk=meeting_id).first() if meeting_id is not None else None
    form = UploadForm(_posted(request), request.FILES if request.method == "POST" else None)
    parents = meeting_parents(meeting)
    context = _context("センター設置状況の取り込み", parents=parents, meeting=meeting, form=form)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = roster.center_list_import(
                    data=upload.read(), filename=upload.name, acting_user=request.user, request=request
                )
            except Refused as refused:
                context.update(refused=refused, filename=upload.name)
            else:
                messages.success(
                    request,
                    f"{upload.name} を取り込みました。{result.entries}団体（設置済 {result.with_center}、"
                    f"未設置 {result.without_center}）です。",
                )
                for notice in result.notices:
                    messages.info(request, f"{upload.name}：{notice}")
                return redirect("meetings_admin:detail", meeting.pk) if meeting else redirect("meetings_admin:index")
    return TemplateResponse(request, "meetings/admin/center_list_upload.html", context, status=status)


# --- 担当区分 of prefecture departments --------------------------------------------------------


@staff_required
def roles_confirm(request, pk):
    """Prefecture meetings: staff confirm, once per meeting, the 担当区分 suggested for every department
    whose roster rows left it blank (services/roles.py). A plain form: works without JavaScript."""
    meeting = _meeting(pk)
    rows = department_roles.department_rows(meeting) if meeting.kind == MeetingKind.PREFECTURE else []
    chosen = {r.pk: r.role or r.suggestion for r in rows}
    context = _context("担当区分の確認", parents=meeting_parents(meeting), meeting=meeting)
    status = 200
    if request.method == "POST":
        chosen = {r.pk: request.POST.get(f"role-{r.pk}", "") for r in rows}
        try:
            changed = department_roles.confirm(
                meeting=meeting, choices=chosen, acting_user=request.user, request=request
            )
        except Refused as refused:
            context["refused"] = refused
            status = 400
        else:
            messages.success(request, f"{len(rows)}部署の担当区分を確認しました（変更 {changed} 件）。")
            return redirect("meetings_admin:detail", meeting.pk)
    context.update(
        rows=[(r, chosen.get(r.pk, "")) for r in rows],
        roles=ROLES,
        prefecture=meeting.kind == MeetingKind.PREFECTURE,
        pending=sum(1 for r in rows if r.confirmed_at is None),
    )
    return TemplateResponse(request, "meetings/admin/roles.html", context, status=status)


# --- participants and attendance --------------------------------------------------------------


@staff_required
def participants(request, pk):
    meeting = _meeting(pk)
    source = request.POST if request.method == "POST" else request.GET
    half = source.get("half", Half.FIRST)
    if half not in Half.values:
        half = Half.FIRST
    lg_id, group_id = source.get("local_government", ""), source.get("group", "")
    if request.method == "POST":
        shown = as_ids(request.POST.getlist("shown"))
        present = as_ids(request.POST.getlist("present"))
        changed = meetings.attendance_record(
            meeting=meeting, half=half, shown_ids=shown, present_ids=present, acting_user=request.user, request=request
        )
        label = Half(half).label
        messages.success(request, f"{label}の出席を保存しました（変更 {changed} 人）。")
        query = urlencode({k: v for k, v in (("half", half), ("local_government", lg_id), ("group", group_id)) if v})
        return redirect(reverse("meetings_admin:participants", args=[meeting.pk]) + f"?{query}")
    rows = list(selectors.participants(meeting, local_government_id=lg_id, group_id=group_id))
    field = meetings.HALF_FIELD[half]
    centers = selectors.center_by_local_government(meeting)
    context = _context(
        "参加者",
        parents=meeting_parents(meeting),
        meeting=meeting,
        rows=[(p, getattr(p, field), center_label(centers.get(p.local_government_id))) for p in rows],
        half=half,
        half_label=Half(half).label,
        halves=Half.choices,
        local_governments=selectors.roster_local_governments(meeting),
        lg_id=lg_id,
        groups=Group.objects.filter(meeting=meeting).order_by("number"),
        group_id=group_id,
    )
    return TemplateResponse(request, "meetings/admin/participants.html", context)


# --- rooms ------------------------------------------------------------------------------------


@staff_required
def rooms_edit(request, pk):
    meeting = _meeting(pk)
    queryset = Room.objects.filter(meeting=meeting).order_by("number")
    formset = RoomFormSet(_posted(request), queryset=queryset, prefix="rooms")
    status = 200
    if request.method == "POST":
        if formset.is_valid():
            changed = rooms.rooms_update(meeting=meeting, formset=formset, acting_user=request.user, request=request)
            messages.success(
                request, f"会議室を保存しました（変更 {len(changed)} 室）。" if changed else "変更はありませんでした。"
            )
            return redirect("meetings_admin:rooms", meeting.pk)
        status = 400
    loads = {entry["room"].pk: entry for entry in rooms.room_loads(meeting)}
    summary = selectors.meeting_summary(meeting)
    context = _context(
        "会議室（会議URL）",
        parents=meeting_parents(meeting),
        meeting=meeting,
        formset=formset,
        entries=[(form, loads.get(form.instance.pk)) for form in formset.forms],
        people=summary["grouped"],
        needed=-(-summary["grouped"] // meeting.capacity_per_url) if summary["grouped"] else 0,
        unassigned=Group.objects.filter(meeting=meeting, room__isnull=True).order_by("number"),
        over=[entry for entry in loads.values() if entry["people"] > meeting.capacity_per_url],
    )
    return TemplateResponse(request, "meetings/admin/rooms.html", context, status=status)


@require_POST
@staff_required
def rooms_assign(request, pk):
    meeting = _meeting(pk)
    try:
        result = rooms.rooms_assign(meeting=meeting, acting_user=request.user, request=request)
    except Refused as refused:
        refusals.show_as_messages(request, refused)
    else:
        sizes = "、".join(f"{room.name} {result.loads[room.number]}人" for room in result.rooms)
        text = f"グループを{len(result.rooms)}つの会議室に割り当てました（{sizes}）。"
        if result.deleted:
            text += "不要になった会議室（" + "、".join(d["name"] for d in result.deleted) + "）は削除しました。"
        messages.success(request, text)
    return redirect("meetings_admin:rooms", meeting.pk)


# --- goals and progress -----------------------------------------------------------------------


@staff_required
def goals(request, pk):
    meeting = _meeting(pk)
    form = GoalsForm(_posted(request), units=selectors.goal_units(meeting), goals=selectors.goals_by_unit(meeting))
    prefecture = meeting.kind == MeetingKind.PREFECTURE
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = meetings.goals_save(
                meeting=meeting, values=form.values(), acting_user=request.user, request=request
            )
            unit = "件" if prefecture else "団体"
            messages.success(
                request,
                f"目標と進捗を保存しました（変更 {len(changed)} {unit}）。" if changed else "変更はありませんでした。",
            )
            return redirect("meetings_admin:goals", meeting.pk)
        status = 400
    context = _context(
        "目標と進捗",
        parents=meeting_parents(meeting),
        meeting=meeting,
        form=form,
        goal_max=GOAL_MAX,
        prefecture=prefecture,
    )
    return TemplateResponse(request, "meetings/admin/goals.html", context, status=status)


@staff_required
def summaries(request, pk):
    """Each group's 協議の概要 for both sessions (issue 16, item 7), entered by staff or for the
    facilitators; the report prints it with participants' names replaced by their numbers."""
    meeting = _meeting(pk)
    form = SummariesForm(_posted(request), groups=meeting.groups.order_by("number"))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = meetings.summaries_save(
                meeting=meeting, values=form.values(), acting_user=request.user, request=request
            )
            messages.success(
                request,
                f"協議の概要を保存しました（変更 {len(changed)} グループ）。"
                if changed
                else "変更はありませんでした。",
            )
            return redirect("meetings_admin:summaries", meeting.pk)
        status = 400
    context = _context(
        "グループの協議の概要", parents=meeting_parents(meeting), meeting=meeting, form=form, limit=GOAL_MAX
    )
    return TemplateResponse(request, "meetings/admin/summaries.html", context, status=status)


# --- invitations ------------------------------------------------------------------------------


@staff_required
def invitations_page(request, pk):
    meeting = _meeting(pk)
    if request.method == "POST":
        half = request.POST.get("half", "")
        try:
            count = invitations.invitations_queue(meeting=meeting, half=half, acting_user=request.user, request=request)
        except Refused as refused:
            refusals.show_as_messages(request, refused)
        else:
            label = Half(half).label
            if count:
                messages.success(
                    request, f"{label}の案内を{count}通、送信待ちにしました。送信メールの処理で順に送られます。"
                )
            else:
                messages.info(
                    request, f"{label}の案内は、同じ内容ですべて送信待ちか送信済みです。新しく送るメールはありません。"
                )
        return redirect("meetings_admin:invitations", meeting.pk)
    sessions = meetings.new_sessions(meeting)
    halves = []
    for half, label in Half.choices:
        halves.append(
            {
                "half": half,
                "label": label,
                "session": sessions[half],
                "when": invitations.when(sessions[half]),
                "refused": invitations.invitations_refusal(meeting=meeting, half=half),
                "status": invitations.invitations_status(meeting, half),
                "preview": invitations.invitation_preview(meeting, half),
            }
        )
    context = _context(
        "案内メール",
        parents=meeting_parents(meeting),
        meeting=meeting,
        halves=halves,
        missing=invitations.facilitators_missing(meeting),
        participant_count=meeting.participants.count(),
    )
    return TemplateResponse(request, "meetings/admin/invitations.html", context)


# --- downloads --------------------------------------------------------------------------------

XLSX = spreadsheets.XLSX_CONTENT_TYPE
CSV = spreadsheets.CSV_CONTENT_TYPE

# key -> (label, file name stem, content type, per room)
DOWNLOADS = {
    "groups": ("会議室ごとのグループ一覧（Excel）", "groups", XLSX, False),
    "second-half": ("下半期シート：目標と進捗（Excel）", "second-half", XLSX, False),
    "zoom": ("Zoom ブレイクアウトルームの事前割り当て（CSV）", "zoom-breakout", CSV, True),
    "webex": ("Webex ブレイクアウトセッションの割り当て（CSV）", "webex-breakout", CSV, True),
    "facilitator": ("ファシリテーター用資料（Excel）", "facilitator", XLSX, True),
}


def _file_response(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


def _build(meeting, what: str, room):
    if what == "groups":
        return downloads.groups_workbook(meeting)
    if what == "second-half":
        return downloads.second_half_sheet(meeting, room=room)
    if what == "facilitator":
        return downloads.facilitator_sheet(meeting, room)
    function = downloads.zoom_csv if what == "zoom" else downloads.webex_csv
    return function(meeting, room=room)


@staff_required
def download(request, pk, what):
    """A file of the meeting. The tool CSVs and the facilitator sheet are per room (one CSV is
    one meeting URL); with at most one room the CSVs can also cover the whole meeting."""
    meeting = _meeting(pk)
    if what not in DOWNLOADS:
        raise Http404
    _, stem, content_type, per_room = DOWNLOADS[what]
    room = None
    if as_id(request.GET.get("room")) is not None:
        room = get_object_or_404(Room, pk=as_id(request.GET["room"]), meeting=meeting)
    elif what == "facilitator" or (per_room and meeting.rooms.count() > 1):
        messages.error(request, "会議室が複数あるため、会議室ごとにダウンロードしてください。")
        return redirect("meetings_admin:detail", meeting.pk)
    try:
        data = _build(meeting, what, room)
    except Refused as refused:
        refusals.show_as_messages(request, refused)
        return redirect("meetings_admin:detail", meeting.pk)
    # The files carry personal data (names; addresses in some): who took which is kept (S2).
    audit_record(
        action="meetings.export_downloaded",
        acting_user=request.user,
        target=meeting,
        request=request,
        detail={"file": what, "room": room.number if room else None},
    )
    extension = "xlsx" if content_type == XLSX else "csv"
    suffix = f"-room{room.number}" if room else ""
    return _file_response(data, f"meeting{meeting.pk}-{stem}{suffix}.{extension}", content_type)


@staff_required
def room_sheet(request, pk, room_pk):
    """A printable sheet of one room (meeting URL) for its facilitator: every group with its members'
    numbers, local governments, departments and names as they should show in the tool (「団体名 氏名」),
    no addresses (S2). For tools without a pre-assignment import (Teams; Webex until its template
    header is confirmed) the facilitator moves people into rooms by hand from it (issue 16, item 5).
    A standalone page with its own print style sheet; the browser prints it or saves it as PDF."""
    meeting = _meeting(pk)
    room = get_object_or_404(Room, pk=as_id(room_pk), meeting=meeting)
    groups = downloads.meeting_groups(meeting, room=room)
    audit_record(  # names of participants: who printed which room is kept (S2), as for the downloads
        action="meetings.room_sheet_viewed",
        acting_user=request.user,
        target=meeting,
        request=request,
        detail={"room": room.number},
    )
    context = {
        "meeting": meeting,
        "room": room,
        "groups": groups,
        "people": sum(len(g.members) for g in groups),
        "sessions": [(label, s) for half, label in Half.choices for s in meeting.sessions.filter(half=half)],
        "is_zoom": meeting.tool == MeetingTool.ZOOM,
        "is_prefecture": meeting.kind == MeetingKind.PREFECTURE,
    }
    response = TemplateResponse(request, "meetings/admin/room_sheet.html", context)
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def roster_template(request):
    kind = request.GET.get("kind") if request.GET.get("kind") in MeetingKind.values else None
    name = f"roster-template-{kind}.xlsx" if kind else "roster-template.xlsx"
    return _file_response(exports.roster_template(kind), name, XLSX)


urlpatterns = [
    path("", index, name="index"),
    path("add/", meeting_edit, name="add"),
    path("roster-template/", roster_template, name="roster_template"),
    path("center-list/", center_list_upload, name="center_list"),
    path("<int:pk>/", meeting_detail, name="detail"),
    path("<int:pk>/edit/", meeting_edit, name="edit"),
    path("<int:pk>/roster/", roster_upload, name="roster"),
    path("<int:pk>/participants/", participants, name="participants"),
    path("<int:pk>/roles/", roles_confirm, name="roles"),
    path("<int:pk>/rooms/", rooms_edit, name="rooms"),
    path("<int:pk>/rooms/assign/", rooms_assign, name="rooms_assign"),
    path("<int:pk>/rooms/<int:room_pk>/sheet/", room_sheet, name="room_sheet"),
    path("<int:pk>/goals/", goals, name="goals"),
    path("<int:pk>/summaries/", summaries, name="summaries"),
    path("<int:pk>/invitations/", invitations_page, name="invitations"),
    path("<int:pk>/download/<slug:what>/", download, name="download"),
]
