"""How the current request is being rendered: live site or static export.

The static export (kokasen.static_export) renders pages in-process with Django's test
client and sets this context variable around each render; it cannot be set from outside
the process, so no visitor can switch the live site into export mode.
"""

import contextlib
import contextvars
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RenderMode:
    static_export: bool = False
    structure: str | None = None  # overrides PortalSettings.structure when set
    design: str | None = None  # overrides PortalSettings.design when set
    # Facts that are the same for every page of one export (menus, settings), computed once.
    shared: dict = field(default_factory=dict, compare=False, hash=False, repr=False)


LIVE = RenderMode()
_mode: contextvars.ContextVar[RenderMode] = contextvars.ContextVar("kokasen_render_mode", default=LIVE)


def current() -> RenderMode:
    return _mode.get()


@contextlib.contextmanager
def rendering(mode: RenderMode):
    token = _mode.set(mode)
    try:
        yield
    finally:
        _mode.reset(token)
