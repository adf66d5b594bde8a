"""Who may do what on the 小ネタ board and in the 意見箱 (roles are groups, see accounts/roles.py).

- member (自治体): reads open and past topics, posts, edits and withdraws own posts while they
  wait for review, sends opinions.
- 管理者 and 受託者 (with a verified TOTP session): moderate posts, manage topics, read
  opinions.
- 管理者 only: change the board settings (moderation mode, length, contact fields).
"""

from kokasen.accounts import roles

STAFF_GROUPS = roles.STAFF_GROUPS
is_member = roles.is_member
is_board_staff = roles.is_staff_role
can_configure = roles.is_agency_admin


def may_read_board(user) -> bool:
    """The topic pages and the 意見箱 form are part of the members area: the same readers
    (members; staff with TOTP passed). Only members post."""
    from kokasen.members.access import can_read_members_area

    return can_read_members_area(user)
