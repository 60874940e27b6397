"""``checkout_floor.py``'s one extra view, in front of omnimall's URLs (never deployed).

``GET /bench/floor?n=N`` runs, in one transaction, ``N`` primary-key reads and one INSERT
(so the COMMIT writes and flushes WAL, as every step of a purchase does), through the same
middleware, connection handling and ``cursor.execute`` as the shop's hand-written hot
paths, and answers a small JSON object: what a purchase step would cost with no business
logic at all. ``&atomic=0``: only the INSERT, in autocommit (as ``POST /carts`` does).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from omnimall.urls import urlpatterns as shop_urlpatterns

TABLE = "bench_floor"
ROWS = 1000


def floor(request: HttpRequest) -> JsonResponse:
    reads = int(request.GET.get("n", "0"))
    if request.GET.get("atomic", "1") == "0":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} (v) VALUES (%s)", [reads])  # noqa: S608
        return JsonResponse({"reads": 0})
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(reads):
            cursor.execute(f"SELECT id, v FROM {TABLE} WHERE id = %s", [i % ROWS + 1])  # noqa: S608
            cursor.fetchall()
        cursor.execute(f"INSERT INTO {TABLE} (v) VALUES (%s)", [reads])  # noqa: S608
    return JsonResponse({"reads": reads})


urlpatterns = [path("bench/floor", floor), *shop_urlpatterns]
