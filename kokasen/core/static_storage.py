"""The static files' storage, with each URL worked out once per process (issue 19).

``{% static %}`` asks the storage for a URL seven times on every page (stylesheets, scripts,
the icon); ``StaticFilesStorage.url`` quotes and joins it each time. The answer depends only on
the name and ``STATIC_URL``, which do not change while the storage object lives (a changed
setting in a test makes Django build a new one)."""

from django.contrib.staticfiles.storage import StaticFilesStorage as BaseStorage

LIMIT = 1024


class StaticFilesStorage(BaseStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name):
        found = self._urls.get(name)
        if found is None:
            found = super().url(name)
            if len(self._urls) >= LIMIT:
                self._urls.clear()
            self._urls[name] = found
        return found
