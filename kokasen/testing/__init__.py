"""Shared test helpers (not product code; decision 0022): the personas (``personas.py``) and a
real SMTP server on loopback (``smtp.py``), a real clamd with a test signature (``clamd.py``), a port that never answers (``sockets.py``), Debian's Chromium under Playwright (``browser.py``). The fixtures built on them (``member_a``,
``member_b``, ``agency_admin``, ``operator``, ``staff_client``, ``member_client``,
``smtp_server`` …) are in ``kokasen/conftest.py``.

The persona helpers are importable from here (``from kokasen.testing import make_member``);
they are loaded on first use, so that ``smtp.py`` also runs without Django
(``python -m kokasen.testing.smtp``, the benchmark's server process).
"""

_PERSONAS = ("CODE_A", "CODE_B", "login_member", "login_staff", "make_member", "make_staff")
__all__ = list(_PERSONAS)


def __getattr__(name):
    if name in _PERSONAS:
        from . import personas

        return getattr(personas, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
