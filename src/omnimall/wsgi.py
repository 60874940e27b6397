import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from omnimall.core.proxies import behind_proxies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnimall.settings")
application = behind_proxies(get_wsgi_application(), settings.PROXY_COUNT)
