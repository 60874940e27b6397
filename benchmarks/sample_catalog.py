"""Print (as JSON) the URLs a benchmark rotates over, picked from the benchmark database.

Run by benchmarks/storefront.py in a child process with the same ``OMNIMALL_*`` environment
as the server, so the parent never opens the database itself.
"""

from __future__ import annotations

import json
import os
import random
import sys
from urllib.parse import quote, urlencode

SORTS = ("price_asc", "price_desc", "newest")
TYPO_QUERIES = ("sneakr", "hoodei", "jaket", "tshrt", "backpak", "runing shoes", "jeens")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnimall.settings")
    import django

    django.setup()
    from omnimall.catalog.models import Brand, Category, Product

    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    product_count = Product.objects.filter(is_active=True).count()
    ids = list(Product.objects.filter(is_active=True).values_list("id", flat=True))
    chosen = sorted(rng.sample(ids, min(500, len(ids))))
    slugs = list(Product.objects.filter(id__in=chosen).values_list("slug", flat=True))
    brands = list(Brand.objects.filter(is_active=True).values_list("slug", "name_en", "name_zh"))
    categories = list(
        Category.objects.filter(is_active=True).values_list(
            "full_slug", "depth", "name_en", "name_zh"
        )
    )
    category_paths = []
    for full_slug, _depth, _en, _zh in categories:
        base = f"/c/{quote(full_slug)}/"
        category_paths.append(base)
        category_paths.extend(f"{base}?{urlencode({'sort': s})}" for s in SORTS)
        if brands:
            category_paths.append(f"{base}?{urlencode({'brand': rng.choice(brands)[0]})}")
        category_paths.append(f"{base}?{urlencode({'colour': 'black', 'sort': 'newest'})}")
        category_paths.append(f"{base}?{urlencode({'price': '100-300'})}")
    queries: list[str] = list(TYPO_QUERIES)
    for _slug, name_en, name_zh in brands:
        queries += [name_en.lower(), name_zh]
    for _full_slug, depth, name_en, name_zh in categories:
        if depth == 3:
            queries += [name_en.lower(), name_zh]
    names = Product.objects.filter(id__in=chosen[:150]).values_list("name_en", "name_zh")
    for name_en, name_zh in names:
        words = name_en.lower().split()
        queries.append(" ".join(words[-2:]))  # "cotton t-shirt", "running sneakers"
        queries.append(name_zh[-4:])  # the product type in Chinese: "圆领T恤", "跑步鞋"
    search_paths = [f"/api/v1/search?{urlencode({'q': q})}" for q in dict.fromkeys(queries)]
    print(
        json.dumps(
            {
                "products": product_count,
                "product_paths": [f"/p/{quote(slug)}/" for slug in slugs],
                "category_paths": category_paths,
                "search_paths": search_paths,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
