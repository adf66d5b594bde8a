"""The audit trail in templates, in Japanese (kokasen/core/audit_actions.py; decision 0053):
``{{ event|audit_sentence }}``, ``{{ event.action|audit_label }}`` and
``{% for name, value in event|audit_details %}``."""

from django import template

from kokasen.core import audit_actions

register = template.Library()

HIDDEN_DETAIL = ("typed", "password", "token", "secret", "nonce")


@register.filter
def audit_sentence(event) -> str:
    return audit_actions.sentence(event)


@register.filter
def audit_label(code: str) -> str:
    return audit_actions.label(code)


@register.filter
def audit_details(event) -> list[tuple[str, str]]:
    """The event's detail as (Japanese name, value) pairs, without anything secret-looking."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    action = audit_actions.registered().get(event.action)
    told = action is not None and action.detail is not None  # its sentence already tells the changes
    rows = []
    for key, value in detail.items():
        if any(word in key.lower() for word in HIDDEN_DETAIL):
            continue
        if told and isinstance(value, dict):
            continue
        if isinstance(value, dict) and all(isinstance(v, dict) and {"old", "new"} <= set(v) for v in value.values()):
            if told:
                continue
            shown = audit_actions.change_clause(value, names={k: audit_actions.detail_name(k) for k in value})
            rows.append((audit_actions.detail_name(key), shown.strip("（）")))
            continue
        rows.append((audit_actions.detail_name(key), audit_actions.detail_value(key, value)[:300]))
    return rows
