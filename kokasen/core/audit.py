"""Writing the audit trail. One function, called by services in the same transaction."""

from django.db import models

from .client_address import client_ip
from .models import AuditEvent


def audit_record(
    *,
    action: str,
    acting_user=None,
    target: models.Model | None = None,
    target_label: str = "",
    detail: dict | None = None,
    request=None,
) -> AuditEvent:
    """Record that ``acting_user`` (None: the system or an anonymous visitor) did ``action``
    (a dotted English code such as ``account.password_reissued``) to ``target``."""
    actor = acting_user if getattr(acting_user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor.get_username() if actor else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=storable(target_label or (str(target) if target is not None else ""))[:200],
        ip_address=client_ip(request),
        detail=storable(detail or {}),
    )


def storable(value):
    """``value`` with every NUL in its strings (also inside dicts and lists) replaced by U+FFFD:
    PostgreSQL stores no NUL in text or JSON, and what a visitor typed is recorded as typed."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(item) for item in value]
    return value
