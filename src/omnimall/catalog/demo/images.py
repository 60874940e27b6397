"""Placeholder product images drawn with Pillow: one per silhouette × colour, no network.

About 150 small PNGs are written once under ``MEDIA_ROOT/demo/`` and shared by every demo
product, so a 100,000-product catalog costs no more disk than a 100-product one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from omnimall.catalog.domain import COLOURS

# Portrait, like the storefront's 3:4 product frames, so nothing is cropped away.
WIDTH, HEIGHT = 600, 800
GRID = 480  # the silhouettes' 100 × 100 grid, in pixels
MEDIA_SUBDIR = "demo"
BACKGROUND = (244, 241, 236)
LABEL_COLOUR = (90, 90, 90)

Point = tuple[float, float]

# Silhouettes on a 100 × 100 grid; each is a list of (kind, geometry) primitives.
_LONG_SLEEVES: list[Point] = [
    (32, 16),
    (44, 12),
    (50, 18),
    (56, 12),
    (68, 16),
    (80, 28),
    (88, 70),
    (78, 72),
    (70, 40),
    (70, 86),
    (30, 86),
    (30, 40),
    (22, 72),
    (12, 70),
    (20, 28),
]
_SNEAKER: list[Point] = [
    (10, 66),
    (12, 48),
    (30, 46),
    (44, 34),
    (58, 36),
    (68, 50),
    (88, 56),
    (92, 66),
    (90, 72),
    (10, 72),
]
SHAPES: dict[str, list[tuple[str, object]]] = {
    "tshirt": [
        (
            "polygon",
            [
                (30, 18),
                (42, 14),
                (50, 20),
                (58, 14),
                (70, 18),
                (86, 32),
                (76, 42),
                (70, 37),
                (70, 84),
                (30, 84),
                (30, 37),
                (24, 42),
                (14, 32),
            ],
        )
    ],
    "shirt": [
        ("polygon", _LONG_SLEEVES),
        ("line", [(50, 20), (50, 86)]),
        ("polygon", [(44, 12), (50, 24), (56, 12), (50, 18)]),
    ],
    "hoodie": [
        ("ellipse", (37, 4, 63, 26)),
        ("polygon", _LONG_SLEEVES),
        ("rectangle", (38, 60, 62, 76)),
    ],
    "jacket": [
        ("polygon", _LONG_SLEEVES),
        ("line", [(50, 18), (50, 86)]),
        ("rectangle", (34, 58, 44, 64)),
        ("rectangle", (56, 58, 66, 64)),
    ],
    "trousers": [
        ("polygon", [(32, 12), (68, 12), (72, 88), (56, 88), (50, 36), (44, 88), (28, 88)])
    ],
    "shorts": [("polygon", [(28, 28), (72, 28), (76, 68), (54, 68), (50, 48), (46, 68), (24, 68)])],
    "dress": [
        (
            "polygon",
            [
                (40, 10),
                (45, 10),
                (50, 16),
                (55, 10),
                (60, 10),
                (60, 34),
                (78, 88),
                (22, 88),
                (40, 34),
            ],
        )
    ],
    "skirt": [
        ("polygon", [(36, 26), (64, 26), (80, 80), (20, 80)]),
        ("rectangle", (36, 26, 64, 32)),
    ],
    "sneaker": [
        ("polygon", _SNEAKER),
        ("rectangle", (8, 70, 93, 76)),
        ("line", [(40, 42), (52, 50)]),
    ],
    "boot": [
        ("polygon", [(30, 14), (54, 14), (56, 52), (84, 60), (88, 72), (26, 72), (28, 40)]),
        ("rectangle", (24, 70, 90, 77)),
    ],
    "sandal": [
        ("polygon", [(10, 66), (88, 60), (92, 68), (12, 74)]),
        ("rectangle", (30, 50, 38, 68)),
        ("rectangle", (56, 48, 64, 66)),
    ],
    "heel": [
        (
            "polygon",
            [
                (12, 70),
                (18, 54),
                (46, 60),
                (70, 42),
                (84, 44),
                (86, 52),
                (78, 54),
                (76, 82),
                (71, 82),
                (70, 60),
                (30, 74),
            ],
        )
    ],
    "backpack": [
        ("rounded", (28, 20, 72, 86)),
        ("rounded", (36, 56, 64, 80)),
        ("arc", (40, 8, 60, 30)),
    ],
    "handbag": [("rectangle", (22, 40, 78, 86)), ("arc", (32, 16, 68, 56))],
    "wallet": [("rounded", (20, 32, 80, 72)), ("line", [(20, 46), (80, 46)])],
    "cap": [("pie", (24, 28, 76, 84)), ("polygon", [(50, 54), (90, 54), (94, 60), (50, 60)])],
    "beanie": [
        ("pie", (26, 24, 74, 90)),
        ("rectangle", (24, 54, 76, 68)),
        ("ellipse", (44, 16, 56, 28)),
    ],
    "scarf": [
        ("polygon", [(20, 14), (36, 10), (78, 80), (62, 86)]),
        ("polygon", [(60, 14), (76, 18), (40, 88), (26, 82)]),
    ],
    "belt": [("rectangle", (6, 45, 94, 55)), ("rectangle", (14, 40, 28, 60))],
    "sock": [("polygon", [(38, 10), (60, 10), (60, 62), (74, 72), (74, 84), (40, 84), (38, 70)])],
    "glasses": [
        ("ellipse", (14, 38, 46, 66)),
        ("ellipse", (54, 38, 86, 66)),
        ("line", [(46, 46), (54, 46)]),
    ],
    "glove": [
        (
            "polygon",
            [
                (34, 88),
                (32, 40),
                (36, 16),
                (42, 16),
                (44, 38),
                (46, 12),
                (52, 12),
                (53, 38),
                (56, 14),
                (62, 14),
                (62, 40),
                (66, 22),
                (72, 24),
                (70, 56),
                (80, 46),
                (86, 52),
                (68, 88),
            ],
        )
    ],
}


LABELS = {"tshirt": "t-shirt", "heel": "heels", "glasses": "sunglasses"}


def image_name(shape: str, colour: str) -> str:
    """The storage name (relative to MEDIA_ROOT) of one placeholder."""
    return f"{MEDIA_SUBDIR}/{shape}-{colour}-{WIDTH}x{HEIGHT}.png"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _outline(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    # Pale fills (white, beige) need a dark edge to show on the background; dark ones a light one.
    lum = 0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2]
    return (60, 60, 60) if lum > 140 else (200, 200, 200)


def _scaled(points: Sequence[Point], scale: float) -> list[Point]:
    return [(x * scale, y * scale) for x, y in points]


def _box(box: object, scale: float) -> list[float]:
    return [v * scale for v in box]  # type: ignore[attr-defined]


def draw_placeholder(shape: str, colour: str, label: str) -> Image.Image:
    fill = _rgb(COLOURS[colour].hex)
    edge = _outline(fill)
    image = Image.new("RGB", (GRID, GRID), BACKGROUND)
    draw = ImageDraw.Draw(image)
    scale = GRID / 100
    width = max(2, GRID // 120)
    for kind, geometry in SHAPES[shape]:
        if kind == "polygon":
            draw.polygon(_scaled(geometry, scale), fill=fill, outline=edge, width=width)  # type: ignore[arg-type]
        elif kind == "line":
            draw.line(_scaled(geometry, scale), fill=edge, width=width)  # type: ignore[arg-type]
        elif kind == "rectangle":
            draw.rectangle(_box(geometry, scale), fill=fill, outline=edge, width=width)
        elif kind == "rounded":
            draw.rounded_rectangle(
                _box(geometry, scale), radius=GRID // 24, fill=fill, outline=edge, width=width
            )
        elif kind == "ellipse":
            draw.ellipse(_box(geometry, scale), fill=fill, outline=edge, width=width)
        elif kind == "pie":
            draw.pieslice(_box(geometry, scale), 180, 360, fill=fill, outline=edge, width=width)
        elif kind == "arc":
            draw.arc(_box(geometry, scale), 180, 360, fill=edge, width=width * 3)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    canvas.paste(image, ((WIDTH - GRID) // 2, (HEIGHT - GRID) // 2 - HEIGHT // 20))
    font = ImageFont.load_default(size=WIDTH // 18)
    text_draw = ImageDraw.Draw(canvas)
    text_draw.text((WIDTH / 2, HEIGHT * 0.88), label, fill=LABEL_COLOUR, font=font, anchor="mm")
    return canvas


def ensure_placeholders(
    *, media_root: Path, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Write the missing placeholder files; return {(shape, colour): storage name}."""
    names: dict[tuple[str, str], str] = {}
    (media_root / MEDIA_SUBDIR).mkdir(parents=True, exist_ok=True)
    for shape, colour in sorted(set(pairs)):
        name = image_name(shape, colour)
        path = media_root / name
        if not path.exists():
            label = f"{LABELS.get(shape, shape).upper()} · {COLOURS[colour].name_en.upper()}"
            draw_placeholder(shape, colour, label).save(path, format="PNG")
        names[(shape, colour)] = name
    return names
