# The personas and the cache reset of the tips tests.
from kokasen.tips.tests.conftest import _fresh_cache, agency_admin, member_a, member_b, operator  # noqa: F401
