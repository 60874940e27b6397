"""gunicorn settings for `omnimall serve` and benchmarks: `-c python:omnimall.gunicorn_conf`."""

from __future__ import annotations

from typing import Any

# Threads would share one database connection per thread anyway; processes use both cores.
worker_class = "sync"
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 20000
max_requests_jitter = 2000
timeout = 30


def post_fork(server: Any, worker: Any) -> None:
    # Load jieba's dictionary now, not on the first Chinese search a shopper makes
    # (that first search would otherwise wait 0.5-3 s).
    from omnimall.search.domain import warm_up

    warm_up()
