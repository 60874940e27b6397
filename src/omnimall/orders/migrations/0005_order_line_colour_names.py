"""Order lines placed so far name their colour by its code ("red / M"): give them the name
the product page shows ("Red / M", "红色 / M").

A line's variant was ``"<colour code> / <size>"`` or the code alone. Its language is that of
the line's product name, taken at the same moment: Chinese when the name has Chinese
characters, English otherwise. The colour table is copied as it stood (a migration must not
follow ``catalog.domain`` as it changes later). Backwards turns the names into codes again.
"""

import re

from django.db import migrations
from django.db.models import Q

# code: (English, Chinese), as catalog.domain.COLOURS had them.
_COLOURS = {
    "black": ("Black", "黑色"),
    "white": ("White", "白色"),
    "grey": ("Grey", "灰色"),
    "navy": ("Navy", "藏青色"),
    "blue": ("Blue", "蓝色"),
    "red": ("Red", "红色"),
    "green": ("Green", "绿色"),
    "beige": ("Beige", "米色"),
    "brown": ("Brown", "棕色"),
    "pink": ("Pink", "粉色"),
    "yellow": ("Yellow", "黄色"),
    "purple": ("Purple", "紫色"),
}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SEPARATOR = " / "
_BATCH = 1000


def _rewrite(apps, colours, rename):
    """Give every line whose variant starts with one of ``colours`` the colour part
    ``rename(colour, product_name)`` (None: unchanged), in batches by primary key."""
    order_line = apps.get_model("orders", "OrderLine")
    match = Q()
    for colour in colours:
        match |= Q(variant=colour) | Q(variant__startswith=colour + _SEPARATOR)
    last = 0
    while True:
        lines = list(
            order_line.objects.filter(match, pk__gt=last)
            .only("pk", "variant", "product_name")
            .order_by("pk")[:_BATCH]
        )
        if not lines:
            return
        last = lines[-1].pk
        changed = []
        for line in lines:
            colour, separator, size = line.variant.partition(_SEPARATOR)
            new = rename(colour, line.product_name)
            if new is not None and new != colour:
                line.variant = (new + separator + size)[:80]
                changed.append(line)
        order_line.objects.bulk_update(changed, ["variant"])


def codes_to_names(apps, schema_editor):
    def name(code, product_name):
        names = _COLOURS.get(code)
        if names is None:
            return None
        return names[1] if _CJK.search(product_name or "") else names[0]

    _rewrite(apps, _COLOURS, name)


def names_to_codes(apps, schema_editor):
    codes = {name: code for code, names in _COLOURS.items() for name in names}
    _rewrite(apps, codes, lambda name, _product_name: codes.get(name))


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_clearer_paid_labels")]

    operations = [migrations.RunPython(codes_to_names, names_to_codes, elidable=True)]
