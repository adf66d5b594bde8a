"""The live site's shared page chrome (header, footer, design and structure) from the cache.

Every page of the live site repeats the same header and footer; rendering them costs about
seven queries (site, settings, home page, sitemap, the public-tree stamp) and most of a
page's template time. On the live site they are rendered once per *chrome generation* and
kept in the cache (Redis in production, shared by every worker):

- the generation is a token in the cache, replaced whenever something the chrome shows may
  have changed: a page saved, deleted, moved, published or unpublished, a view restriction,
  a site, the portal settings or a menu group (receivers in apps.py);
- entries also expire after CHROME_SECONDS, so a change that sends no signal (a queryset
  update in a script) shows within that time anyway.

The account links (ログイン / 会員エリア・ログアウト with the CSRF token) differ per visitor,
so the cached header holds a slot for them, filled on every request. The static export does
not use this module (it has its own once-per-export sharing, see context_processors).
"""

from kokasen.core import caching
from kokasen.core.generations import Generation

GENERATION_KEY = "portal:chrome-generation"
CHROME_SECONDS = 60
ACCOUNT_SLOT = "<!--kokasen:account-links-->"
_generation = Generation(GENERATION_KEY)


def generation() -> str:
    """The current token ("none" when the shared cache is down), prefetched with the request's
    other keys."""
    return _generation.current() or "none"


def changed(**_ignored) -> None:
    """A signal receiver: start a new generation, so no cached chrome is used again."""
    _generation.replace()


def prefetch_keys(request) -> list[str]:
    """Every rendered page reads the chrome's generation (``core.request_cache``)."""
    return [GENERATION_KEY]


def cached(current_generation: str, key: str, compute):
    """compute() once per generation for key (a short string naming the variant). The
    caller reads generation() once per request and passes it to every call."""
    return caching.versioned(f"portal:chrome:{current_generation}:{key}", compute, CHROME_SECONDS)
