"""Form helpers shared by every app's forms."""


class DescribedFieldsMixin:
    """Point every input at its hint and error text (aria-describedby, aria-invalid);
    the field templates (templates/accounts/includes/field.html, templates/tips/_field.html)
    render them with these ids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self):
        super().full_clean()
        self._describe()

    def _describe(self):
        errors = self._errors or {}
        for name, field in self.fields.items():
            field_id = self[name].id_for_label
            ids = [f"{field_id}-hint"] if field.help_text else []
            if errors.get(name):
                ids.append(f"{field_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
