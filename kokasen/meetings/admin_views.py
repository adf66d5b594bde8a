"""(placeholder: filled by the meetings work)"""

urlpatterns = []

from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def index(request):  # replaced by the meetings list
    return HttpResponse("")


urlpatterns = [path("", index, name="index")]
