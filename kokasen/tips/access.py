"""Who may do what on the 小ネタ board (roles are groups, see accounts/roles.py).

- the readers of the members area (members; staff with TOTP passed) read the board:
  ``members.access.members_area_required`` guards its views.
- member (自治体): reads open and past topics, posts, edits and withdraws own posts while they
  wait for review.
- 管理者 and 受託者 (with a verified TOTP session): moderate posts, manage topics.
- 管理者 only: change the board settings (moderation mode, length, contact fields).
"""

from kokasen.accounts import roles

is_member = roles.is_member
is_board_staff = roles.is_staff_role
can_configure = roles.is_agency_admin
