from django.contrib import admin

# Wagtail registers its document and image models in the Django admin (imported here first, so
# that the registrations exist whatever the order of INSTALLED_APPS). Their plain model forms
# would skip what Wagtail's own screens apply (collection permissions, the members' file checks,
# safe names), so documents and images are uploaded in the Wagtail admin only.
from wagtail.documents import admin as _documents_admin  # noqa: F401
from wagtail.documents import get_document_model
from wagtail.images import admin as _images_admin  # noqa: F401
from wagtail.images import get_image_model

from .models import AuditEvent

for model in (get_document_model(), get_image_model()):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is evidence, so nobody edits or deletes it from a screen."""

    list_display = ("created_at", "actor_label", "action", "target_label", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label", "target_id", "action")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
