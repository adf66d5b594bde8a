"""The texts of the notices are snippets (スニペット → メールの文面), edited by staff.

A kind without a row uses the standard text from templates/emails/; 「追加」 starts from that
text for the first kind that has no row yet (or ``?kind=``). Placeholders are checked by
MessageTemplate.clean (message_templates.problems), with Japanese messages per field.
"""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, SnippetViewSet

from . import message_templates
from .models import MessageTemplate


class MessageTemplateCreateView(CreateView):
    def get_initial(self):
        initial = super().get_initial()
        taken = set(MessageTemplate.objects.values_list("kind", flat=True))
        free = [kind for kind, _ in message_templates.KIND_CHOICES if kind not in taken]
        kind = self.request.GET.get("kind")
        kind = kind if kind in dict(message_templates.KIND_CHOICES) else (free[0] if free else None)
        if kind:
            text = message_templates.default(kind)
            initial.update(kind=kind, subject=text.subject, body=text.body)
        return initial


class MessageTemplateViewSet(SnippetViewSet):
    model = MessageTemplate
    icon = "mail"
    menu_label = "メールの文面"
    add_view_class = MessageTemplateCreateView
    list_display = ["__str__", "subject", "updated_at"]
    form_fields = ["kind", "subject", "body"]


register_snippet(MessageTemplateViewSet)
