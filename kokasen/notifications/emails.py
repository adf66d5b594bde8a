"""Writing an e-mail: the registered kinds, their templates, and the one renderer.

Every e-mail the portal sends is of a *kind*, declared by the app that sends it in its
``mail_kinds.py`` (imported when the apps are ready, see apps.py)::

    emails.register(emails.Kind("tips_approved", "小ネタ：投稿の承認のお知らせ"))

The name is also the outbox row's ``kind`` and the template folder: ``templates/emails/<kind>/``
holds ``subject.txt`` (one line) and ``body.txt``. Most kinds are Django templates. A kind that
staff may edit in the admin (``editable=Editable(...)``) has its default text there in the
placeholder syntax of message_templates.py (``{団体名}``), and a MessageTemplate row replaces it.

``render(kind, context)`` is the only way a subject and body are made, and applies the rules
every message follows, here and nowhere else:

- Plain text: templates are rendered with autoescaping off (LGWAN mail is read as text, and
  ``&amp;`` in a mail is a defect, not a defence).
- The subject is one line: line breaks (from a value or a template) become one space.
- A body made from a template file has no leading or trailing blank lines and ends with one
  line break.
- Nothing can form a secret slot (decision 0017): the slot opener ``[[kokasen:`` is broken
  (``[ [kokasen:``) everywhere in the rendered subject and body, so no value, and no two values
  side by side, can become a slot; only the kind's own slot, if it was registered with one, is
  then put back where its template asks for it.

Secret slots (``[[kokasen:<name>]]``) are filled by the sender at send time with the filler the
owning app registered (``register_slot_filler``); notifications itself makes no secret and
imports no app above it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import Context
from django.template.loader import get_template
from django.utils.functional import SimpleLazyObject

SLOT_PREFIX = "[[kokasen:"


def slot_marker(slot: str) -> str:
    """What a body holds in place of a secret until the sender fills it in."""
    return f"{SLOT_PREFIX}{slot}]]"


class Text(NamedTuple):
    subject: str
    body: str


@dataclass(frozen=True)
class Editable:
    """A kind whose text staff edit (スニペット → メールの文面), written with placeholders."""

    placeholders: dict[str, str]  # {name: what it becomes}, in the order the admin's messages list them
    required: tuple[str, ...] = ()  # must appear in the body
    subject: tuple[str, ...] = ()  # may appear in the subject
    secret: str = ""  # the placeholder that becomes the kind's slot (never in the subject)


@dataclass(frozen=True)
class Kind:
    name: str  # the outbox's kind and the folder templates/emails/<name>/
    label: str  # Japanese, for the outbox list (and the admin's choice of editable texts)
    editable: Editable | None = None  # staff may edit the text (a MessageTemplate row)
    slot: str = ""  # the one secret slot this kind may carry, filled by the sender

    def __post_init__(self):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ImproperlyConfigured(f"e-mail kind {self.name!r}: lower-case letters, digits and _ only")
        secret = self.editable.secret if self.editable else ""
        if bool(self.slot) != bool(secret):
            raise ImproperlyConfigured(
                f"e-mail kind {self.name!r}: a slot is carried only by an editable kind through its secret placeholder"
            )
        if secret and (secret not in self.editable.placeholders or secret in self.editable.subject):
            raise ImproperlyConfigured(f"e-mail kind {self.name!r}: the secret placeholder is a body placeholder")


@dataclass
class _Registry:
    kinds: dict[str, Kind] = field(default_factory=dict)
    fillers: dict[str, Callable] = field(default_factory=dict)


_registry = _Registry()


def register(kind: Kind) -> Kind:
    """Declare a kind (from an app's mail_kinds.py). A name belongs to one declaration."""
    if _registry.kinds.get(kind.name, kind) != kind:
        raise ImproperlyConfigured(f"e-mail kind {kind.name!r} is registered twice")
    _registry.kinds[kind.name] = kind
    return kind


def register_slot_filler(slot: str, filler: Callable) -> None:
    """``filler(message) -> str`` makes the secret for ``[[kokasen:<slot>]]`` of one outbox row
    at send time, or raises SecretUnavailable. Registered by the app that owns the secret."""
    if _registry.fillers.get(slot, filler) is not filler:
        raise ImproperlyConfigured(f"secret slot {slot!r} has two fillers")
    _registry.fillers[slot] = filler


class SecretUnavailable(Exception):
    """The message needs a secret that cannot be made (a permanent failure); the text says
    what staff should do, in Japanese."""


def get(name: str) -> Kind:
    try:
        return _registry.kinds[name]
    except KeyError:
        raise LookupError(f"no e-mail kind {name!r} is registered (see the apps' mail_kinds.py)") from None


def kinds() -> list[Kind]:
    return list(_registry.kinds.values())


def labels() -> dict[str, str]:
    """{kind: Japanese label} of every registered kind, for lists of outbox messages."""
    return {kind.name: kind.label for kind in _registry.kinds.values()}


def editable_choices() -> list[tuple[str, str]]:
    """The kinds staff may edit, as choices (MessageTemplate.kind; evaluated when used, since
    the kinds are registered once the apps are ready)."""
    return [(kind.name, kind.label) for kind in _registry.kinds.values() if kind.editable]


def slot_of(name: str) -> str:
    """The secret slot a kind may carry ("" for every other kind, registered or not)."""
    kind = _registry.kinds.get(name)
    return kind.slot if kind else ""


def slot_filler(slot: str) -> Callable:
    try:
        return _registry.fillers[slot]
    except KeyError:
        raise SecretUnavailable(f"秘密情報「{slot}」を記入する仕組みが登録されていません。") from None


# --- the rules ----------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """``text`` with every slot opener broken (``[[kokasen:`` → ``[ [kokasen:``), so that
    nothing outside a slot made by render() can ever become a secret slot."""
    while SLOT_PREFIX in text:
        text = text.replace(SLOT_PREFIX, "[ [kokasen:")
    return text


def one_line(text: str) -> str:
    """A subject: its lines joined by one space, without surrounding white space."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _file_body(text: str) -> str:
    return text.strip("\n") + "\n"


def template_name(name: str, part: str) -> str:
    return f"emails/{name}/{part}.txt"


def template_source(name: str, part: str) -> str:
    """The text of templates/emails/<name>/<part>.txt as written (an editable kind's default)."""
    return get_template(template_name(name, part)).template.source


def _render_file(name: str, part: str, context: dict) -> str:
    # The Django engine of settings.TEMPLATES, with autoescaping off for this rendering only.
    return get_template(template_name(name, part)).template.render(Context(context, autoescape=False))


# --- the お問い合わせ page -----------------------------------------------------------------------

CONTACT_PLACEHOLDER = "お問い合わせURL"
_contact_page: Callable[[], str | None] | None = None


def set_contact_page(source: Callable[[], str | None]) -> None:
    """Where the お問い合わせ page is: registered by the pages app (decision 0044), which owns it;
    ``source()`` gives its path, or None while there is none."""
    global _contact_page
    _contact_page = source


def contact_url() -> str:
    """The お問い合わせ page written out in full, or the portal's top page while there is none.
    Looked up once a minute at most (a credential run renders 1,788 messages)."""
    from django.core.cache import cache

    path = cache.get_or_set("emails:contact-path", lambda: (_contact_page() if _contact_page else None) or "/", 60)
    return absolute(path)


def render(name: str, context: dict, *, template: Text | None = None) -> Text:
    """Subject and body of one message of kind ``name``.

    ``context``: the template's variables; for an editable kind, the placeholder values
    ({"団体名": …}) except its secret. Every kind also gets the お問い合わせ page's URL
    (``{{ contact_url }}``, or ``{お問い合わせURL}`` where an editable kind lists it). ``template`` (editable kinds) saves the look-up of the
    current text when many messages of one kind are rendered."""
    kind = get(name)
    marker = ""
    if kind.editable:
        from . import message_templates

        # The secret placeholder becomes a random mark that no value can contain; it survives
        # neutralise() and is then replaced by the slot.
        marker = f"\x00{secrets.token_hex(16)}\x00" if kind.slot else ""
        if CONTACT_PLACEHOLDER in kind.editable.placeholders:
            context = {CONTACT_PLACEHOLDER: contact_url(), **context}
        subject, body = message_templates.fill(kind, context, template=template, secret=marker)
    else:
        # Lazy: looked up only by a template that writes it (the mails of a database outage do not).
        context = {"contact_url": SimpleLazyObject(contact_url), **context}
        subject, body = _render_file(name, "subject", context), _file_body(_render_file(name, "body", context))
    subject, body = neutralise(one_line(subject)), neutralise(body)
    if marker:
        body = body.replace(marker, slot_marker(kind.slot))
    return Text(subject, body)


# --- URLs written out in full ---------------------------------------------------------------


def base_url() -> str:
    return (settings.PORTAL_BASE_URL or settings.WAGTAILADMIN_BASE_URL).rstrip("/")


def absolute(path: str) -> str:
    return base_url() + path
