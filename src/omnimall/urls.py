from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve as serve_file

from omnimall.api import api
from omnimall.core.views import healthz, hello
from omnimall.storefront import views as storefront_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("bench/hello", hello),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/setlang/", storefront_views.set_language, name="set_language"),
    path("", include("omnimall.checkout.urls")),
    path("", include("omnimall.orders.urls")),
    path("", include("omnimall.payments.urls")),
    path("account/member/exchange/", include("omnimall.members.partners.urls")),
    path("account/member/", include("omnimall.members.urls")),
    path("sandbox/partner/", include("omnimall.members.partners.sandbox_urls")),
    path("", include("omnimall.storefront.accounts.urls")),
    path("", include("omnimall.channels.urls")),
    path("", include("omnimall.storefront.urls")),
]

if settings.SERVE_MEDIA:
    # The demo serves uploaded and generated images itself; production puts them behind
    # the web server or object storage (docs/operations.md).
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(
        re_path(
            rf"^{media_prefix}(?P<path>.*)$", serve_file, {"document_root": settings.MEDIA_ROOT}
        )
    )
