"""The stylesheet of the project's own admin screens (static/css/admin-screens.css, decision 0056):
underlined links in help text and 24 px targets for listed links, on top of Wagtail's admin CSS."""

from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks


@hooks.register("insert_global_admin_css")
def admin_screens_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin-screens.css"))
