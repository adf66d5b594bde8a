"""What a request was, from its log line: Django-free, pure, cached (decision 0036).

Kinds of request (``KINDS``): a page view (an HTML page of the public site fetched with GET or
HEAD and answered 200 or 304), a download (a PDF, an Office file or a video), an asset (CSS,
scripts, images, fonts), the members' area (its pages, the login and the account screens),
the admin, the health checks, and everything else (forms sent, redirects, errors, feeds,
robots.txt). A download counts once per client and day, however many range requests the
player or the PDF viewer makes (the counting is the aggregator's, ``aggregate.py``).

Paths are normalised so that one page has one name: percent-encoding undone (Japanese slugs
read as text), ``/x/index.html`` and ``/x/index.htm`` (the static export's file names) are
``/x/``, ``/x`` without a file extension is ``/x/`` (Wagtail's), the query string is dropped
(its campaign key, ``CAMPAIGN_KEYS``, is counted on its own).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

PAGE, DOWNLOAD, ASSET, MEMBERS, ADMIN, HEALTH, OTHER = (
    "page",
    "download",
    "asset",
    "members",
    "admin",
    "health",
    "other",
)
KINDS = (PAGE, DOWNLOAD, ASSET, MEMBERS, ADMIN, HEALTH, OTHER)

CAMPAIGN_KEYS = ("c", "utm_campaign")  # ?c=… on meeting links (issue 15 item 6); utm_campaign from elsewhere
CAMPAIGN_MAX = 40

DOCUMENT_EXTENSIONS = frozenset(
    "pdf doc docx docm xls xlsx xlsm ppt pptx pptm odt ods odp rtf csv zip jtd".split()
)  # jtd: 一太郎
VIDEO_EXTENSIONS = frozenset("mp4 m4v webm mov avi wmv mpg mpeg ogv".split())
ASSET_EXTENSIONS = frozenset(
    "css js mjs map png jpg jpeg gif svg webp avif ico woff woff2 ttf otf eot json webmanifest".split()
)
PAGE_EXTENSIONS = frozenset(("html", "htm", ""))
ASSET_PREFIXES = ("/static/", "/media/", "/members/images/")
MEMBER_PREFIXES = ("/members/", "/login/", "/logout/", "/password-reset/", "/account/")
ADMIN_PREFIXES = ("/admin/", "/django-admin/", "/_util/", "/_auth/")
HEALTH_PATHS = frozenset(("/healthz", "/readyz", "/healthz/", "/readyz/"))
ROBOTS = "/robots.txt"

# Paths no browser of a person asks for: a client asking for them is a scanner (bots.py).
SCANNER_MARKS = (
    ".php",
    "/.env",
    "/.git",
    "/.svn",
    "/.aws",
    "/.ds_store",
    "/wp-",
    "/cgi-bin/",
    "/phpmyadmin",
    "/pma/",
    "/actuator",
    "/server-status",
    "/manager/html",
    "/hnap1",
    ".asp",
    ".aspx",
    ".jsp",
    ".sql",
    ".bak",
    "/etc/passwd",
    "docker-compose",
    "/vendor/",
    "/owa/",
    "/boaform",
    "/solr/",
    "/console",
)

_PATH_CACHE: dict[str, tuple[str, str, bool]] = {}
_CACHE_MAX = 200_000


def normalise(raw: str) -> str:
    """The page a logged path stands for (without query)."""
    path = unquote(raw, errors="replace") if "%" in raw else raw
    if not path.startswith("/"):
        path = "/" + path
    while "//" in path:
        path = path.replace("//", "/")
    last = path.rsplit("/", 1)[-1]
    if last in ("index.html", "index.htm"):
        return path[: -len(last)]
    if last and "." not in last:
        return path + "/"
    return path


def extension(path: str) -> str:
    last = path.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return last[dot + 1 :].lower() if dot > 0 else ""


def path_class(raw: str) -> tuple[str, str, bool]:
    """(kind the path is of, normalised path, whether it is a scanner's path). ``kind`` is
    PAGE for anything that would be a page if the request succeeds; DOWNLOAD, ASSET … as
    ``KINDS``; ``"robots"`` for robots.txt."""
    found = _PATH_CACHE.get(raw)
    if found is not None:
        return found
    path = normalise(raw)
    lower = path.lower()
    ext = extension(path)
    scanner = any(mark in lower for mark in SCANNER_MARKS)
    if lower == ROBOTS:
        kind = "robots"
    elif path in HEALTH_PATHS:
        kind = HEALTH
    elif lower.startswith(ADMIN_PREFIXES):
        kind = ADMIN
    elif ext in VIDEO_EXTENSIONS or ext in DOCUMENT_EXTENSIONS:
        kind = DOWNLOAD
    elif lower.startswith(ASSET_PREFIXES) or ext in ASSET_EXTENSIONS:
        kind = ASSET
    elif lower.startswith(MEMBER_PREFIXES):
        kind = MEMBERS
    elif ext in PAGE_EXTENSIONS and not scanner:
        kind = PAGE
    else:
        kind = OTHER
    found = (kind, path, scanner)
    if len(_PATH_CACHE) > _CACHE_MAX:
        _PATH_CACHE.clear()
    _PATH_CACHE[raw] = found
    return found


def request_kind(path_kind: str, method: str, status: int) -> str:
    """The kind of one request, from its path's kind, method and status."""
    if path_kind == PAGE:
        return PAGE if (status == 200 or status == 304) and (method == "GET" or method == "HEAD") else OTHER
    if path_kind == DOWNLOAD:
        return DOWNLOAD if status in (200, 206, 304) and method == "GET" else OTHER
    if path_kind == "robots":
        return OTHER
    return path_kind


def campaign(query: str) -> str:
    """The campaign key's value of a query string ('' if none), cut to ``CAMPAIGN_MAX``."""
    if not query:
        return ""
    for key, value in parse_qsl(query, keep_blank_values=False):
        if key in CAMPAIGN_KEYS:
            return value.strip()[:CAMPAIGN_MAX]
    return ""


_HOST_CACHE: dict[str, str] = {}


def referrer_host(referrer: str) -> str:
    """The host of a referrer ('' for none or an unreadable one)."""
    if not referrer or referrer == "-":
        return ""
    host = _HOST_CACHE.get(referrer)
    if host is None:
        try:
            host = (urlsplit(referrer).hostname or "")[:200]
        except ValueError:
            host = ""
        if len(_HOST_CACHE) > _CACHE_MAX:
            _HOST_CACHE.clear()
        _HOST_CACHE[referrer] = host
    return host


def referrer_page(referrer: str) -> str:
    """A referrer without its query and fragment (for the 404 list)."""
    if not referrer or referrer == "-":
        return ""
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return ""
    path = unquote(parts.path, errors="replace")
    return f"{parts.scheme}://{parts.netloc}{path}"[:500] if parts.netloc else path[:500]


DESKTOP, MOBILE, TABLET, UNKNOWN = "desktop", "mobile", "tablet", "other"
DEVICES = (DESKTOP, MOBILE, TABLET, UNKNOWN)


def device(user_agent: str) -> str:
    """Device class of a user agent: mobile, tablet, desktop or other."""
    if "iPhone" in user_agent or "iPod" in user_agent:
        return MOBILE
    if "iPad" in user_agent:
        return TABLET
    if "Android" in user_agent:
        return MOBILE if "Mobile" in user_agent else TABLET
    if "Mobile" in user_agent and "Mozilla" in user_agent:
        return MOBILE
    if any(mark in user_agent for mark in ("Windows NT", "Macintosh", "X11", "CrOS")):
        return DESKTOP
    return UNKNOWN
