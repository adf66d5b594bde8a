"""Admin menu 「小ネタ」: the moderation queue, the topics (Wagtail's ModelViewSet) and the board settings."""

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu
from wagtail.permissions import register_permission_policy

from kokasen.accounts.admin_menu import AgencyAdminMenuItem, StaffMenuItem, StaffSubmenuMenuItem

from . import admin_views, topic_cache
from .models import Topic

# Before anything asks Wagtail for Topic's policy (it would create a default one).
register_permission_policy(Topic, admin_views.topic_policy)


@hooks.register("register_admin_urls")
def register_tips_admin_urls():
    urls = [
        path("", admin_views.queue, name="queue"),
        path("bulk/", admin_views.bulk, name="bulk"),
        path("posts/<int:pk>/", admin_views.post_detail, name="post"),
        path("settings/", admin_views.board_settings, name="settings"),
    ]
    return [path("tips/", include((urls, "tips_admin"), namespace="tips_admin"))]


@hooks.register("register_admin_viewset")
def register_topics_viewset():
    return admin_views.TopicViewSet()


@hooks.register("register_admin_menu_item")
def register_tips_menu():
    menu = Menu(
        items=[
            StaffMenuItem("投稿の確認", reverse("tips_admin:queue"), name="tips-queue", icon_name="tasks", order=1),
            StaffMenuItem("お題", reverse("tips_topics:index"), name="tips-topics", icon_name="list-ul", order=2),
            AgencyAdminMenuItem("設定", reverse("tips_admin:settings"), name="tips-settings", icon_name="cog", order=3),
        ]
    )
    return StaffSubmenuMenuItem("小ネタ", menu, name="tips", icon_name="comment", order=8000)


@hooks.register("members_open_topics")  # kokasen.members.models.OPEN_TOPICS_HOOK: the members home
def open_topics_for_members_home(request):
    """Topics taking posts now (each has .title, .url, .closes_at)."""
    return topic_cache.open_topics()[:10]
