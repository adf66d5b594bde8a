"""The storage of MEDIA_ROOT (``STORAGES["default"]``): Django's file system storage, except
that a file under ``protected_images/`` has no ``/media/`` URL. Its URL is the app's image
view (``/members/images/<name>``, views.serve_image), which checks who is asking; so every
template tag, rendition and admin thumbnail of a protected image points there.

Moving media to object storage (django-storages) means giving that backend the same
``url()`` rule; see docs/decisions/0019-protected-images.md.
"""

from django.core.files.storage import FileSystemStorage

from . import images


class MediaStorage(FileSystemStorage):
    def url(self, name):
        if images.is_protected_name(name):
            return images.view_url(name)
        return super().url(name)
