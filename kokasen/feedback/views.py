"""The members' 意見箱 form. Staff read opinions in the admin (admin_views.py)."""

from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from kokasen.accounts import roles
from kokasen.core import refusals
from kokasen.core.refusals import Refused
from kokasen.members.access import members_area_required

from . import services
from .forms import OpinionForm


@members_area_required
@require_http_methods(["GET", "POST"])
def send(request):
    is_member = roles.is_member(request.user)
    form = OpinionForm(request.POST if request.method == "POST" and is_member else None)
    if request.method == "POST" and is_member and form.is_valid():
        data = form.cleaned_data
        try:
            services.opinion_submit(
                author=request.user,
                body=data["body"],
                category=data["category"],
                contact_name=data["contact_name"],
                contact_email=data["contact_email"],
                request=request,
            )
        except Refused as refused:
            refusals.show_on_form(form, refused)
        else:
            return redirect("feedback:thanks")
    status = 400 if form.errors else 200
    return TemplateResponse(request, "feedback/send.html", {"form": form, "is_member": is_member}, status=status)


@members_area_required
def thanks(request):
    return TemplateResponse(request, "feedback/thanks.html", {})
