"""Who may do what on the 小ネタ board and in the 意見箱 (roles are groups, see accounts/roles.py).

- member (自治体): reads open and past topics, posts, edits and withdraws own posts while they
  wait for review, sends opinions.
- 管理者 and 受託者 (with a verified TOTP session): moderate posts, manage topics, read
  opinions.
- 管理者 only: change the board settings (moderation mode, length, contact fields).
"""

from kokasen.accounts import roles

STAFF_GROUPS = (roles.AGENCY_ADMIN, roles.OPERATOR)


def _group_names(user) -> set[str]:
    # kokasen.members.access caches the same set on the user: one query per request for both.
    cached = getattr(user, "_kokasen_group_names", None) or getattr(user, "_members_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._kokasen_group_names = user._members_group_names = cached
    return cached


def _verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def is_member(user) -> bool:
    """A local-government account (the only kind that posts and sends opinions)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.local_government_id is not None
        and roles.MEMBER in _group_names(user)
    )


def is_board_staff(user, *, verified: bool = True) -> bool:
    """管理者 or 受託者 (or a superuser) who passed two-factor login. Services, which also
    run outside a request (commands, tests), check the role only (``verified=False``); the
    admin views check the verified session as well."""
    if not getattr(user, "is_authenticated", False):
        return False
    in_role = user.is_superuser or bool(_group_names(user) & set(STAFF_GROUPS))
    return in_role and (not verified or _verified(user))


def can_configure(user, *, verified: bool = True) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    in_role = user.is_superuser or roles.AGENCY_ADMIN in _group_names(user)
    return in_role and (not verified or _verified(user))


def may_read_board(user) -> bool:
    """The topic pages and the 意見箱 form are part of the members area: the same readers
    (members; staff with TOTP passed). Only members post."""
    from kokasen.members.access import can_read_members_area

    return can_read_members_area(user)
