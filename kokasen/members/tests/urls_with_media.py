"""The portal's URLs as the development server serves them (``make run``, DEBUG on): the
media helper in front of kokasen.urls. The persona walk uses it, so that every /media/ URL
reaches the code that would serve it."""

from kokasen.members.media import dev_media_urlpatterns
from kokasen.urls import urlpatterns as portal_urlpatterns

urlpatterns = dev_media_urlpatterns() + portal_urlpatterns
