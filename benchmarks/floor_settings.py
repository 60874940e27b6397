"""Settings of ``checkout_floor.py``'s server: omnimall's own, with ``floor_urls`` in front."""

from omnimall.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
