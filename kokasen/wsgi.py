import os

from django.core.wsgi import get_wsgi_application

# gunicorn on a server: the production settings, which read the installer's environment file.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokasen.settings.production")
application = get_wsgi_application()
