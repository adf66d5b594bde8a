"""The texts of the notices are snippets (スニペット → メールの文面), edited by staff.

Only the kinds registered as editable (emails.Editable) are offered. A kind without a row uses
the standard text from templates/emails/<kind>/; 「追加」 starts from that
text for the first kind that has no row yet (or ``?kind=``). Placeholders are checked by
MessageTemplate.clean (message_templates.problems), with Japanese messages per field.
"""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import CreateView, SnippetViewSet

from . import emails, message_templates
from .models import MessageTemplate


class MessageTemplateCreateView(CreateView):
    def get_initial(self):
        initial = super().get_initial()
        taken = set(MessageTemplate.objects.values_list("kind", flat=True))
        editable = [kind for kind, _ in emails.editable_choices()]
        free = [kind for kind in editable if kind not in taken]
        kind = self.request.GET.get("kind")
        kind = kind if kind in editable else (free[0] if free else None)
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
