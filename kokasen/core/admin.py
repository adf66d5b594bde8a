from django.contrib import admin

from .models import AuditEvent


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
