"""The advert suite's palettes, product colours, copy (brands, headlines, prices) and style names.

Data only: the renderer (:mod:`suites.builtin._ads_render`) draws with these, the sampler
(:mod:`suites.builtin.ads`) picks among them, and a sample's ``context`` names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from suites.builtin._ads_paint import RGB


@dataclass(frozen=True)
class Palette:
    """A background palette: two background tones, an accent (panels, tags), ink for text on the
    background, ink for text on the accent, and a pop colour for badges and decorations."""

    name: str
    bg: RGB
    bg2: RGB
    accent: RGB
    ink: RGB
    on_accent: RGB
    pop: RGB


# fmt: off
PALETTES: dict[str, Palette] = {p.name: p for p in (
    #        name        bg               bg2              accent           ink              on_accent        pop
    Palette("coral",    (250, 128, 114), (255, 171, 145), (38, 50, 92),    (255, 255, 255), (255, 255, 255), (255, 214, 102)),
    Palette("teal",     (38, 166, 154),  (0, 121, 107),   (255, 202, 40),  (255, 255, 255), (33, 33, 33),    (255, 112, 67)),
    Palette("mustard",  (255, 202, 40),  (255, 171, 0),   (33, 33, 33),    (33, 33, 33),    (255, 255, 255), (229, 57, 53)),
    Palette("navy",     (26, 35, 126),   (48, 63, 159),   (255, 171, 64),  (255, 255, 255), (26, 35, 126),   (0, 229, 255)),
    Palette("lavender", (179, 157, 219), (149, 117, 205), (74, 20, 140),   (255, 255, 255), (255, 255, 255), (255, 241, 118)),
    Palette("mint",     (178, 223, 219), (128, 203, 196), (0, 77, 64),     (0, 77, 64),     (255, 255, 255), (255, 138, 101)),
    Palette("charcoal", (55, 71, 79),    (38, 50, 56),    (255, 87, 34),   (255, 255, 255), (255, 255, 255), (255, 235, 59)),
    Palette("peach",    (255, 204, 188), (255, 171, 145), (191, 54, 12),   (62, 39, 35),    (255, 255, 255), (92, 107, 192)),
    Palette("sky",      (129, 212, 250), (79, 195, 247),  (1, 87, 155),    (1, 60, 110),    (255, 255, 255), (255, 238, 88)),
    Palette("cream",    (255, 248, 225), (255, 236, 179), (230, 81, 0),    (62, 39, 35),    (255, 255, 255), (0, 137, 123)),
    Palette("berry",    (173, 20, 87),   (136, 14, 79),   (255, 213, 79),  (255, 255, 255), (66, 10, 40),    (128, 222, 234)),
    Palette("forest",   (46, 125, 50),   (27, 94, 32),    (255, 241, 118), (255, 255, 255), (27, 60, 20),    (255, 167, 38)),
)}
# fmt: on

PRODUCT_COLORS: dict[str, RGB] = {
    "red": (229, 57, 53),
    "white": (245, 245, 242),
    "black": (45, 45, 52),
    "blue": (30, 136, 229),
    "yellow": (253, 216, 53),
    "pink": (240, 98, 146),
    "silver": (176, 190, 197),
    "orange": (251, 140, 0),
    "purple": (126, 87, 194),
    "green": (67, 160, 71),
    "teal": (0, 150, 136),
    "tan": (188, 143, 105),
}

BACKGROUNDS: tuple[str, ...] = ("flat", "gradient", "diagonal", "radial", "dots", "stripes", "disc")
LAYOUTS: tuple[str, ...] = ("hero-right", "hero-left", "center", "bottom-band", "split")
LOGO_MARKS: tuple[str, ...] = ("circle", "ring", "triangle", "diamond", "square", "hexagon", "twin", "half")
PRICE_STYLES: tuple[str, ...] = ("badge", "pill", "tag", "burst")
DECORATIONS: tuple[str, ...] = ("dots", "confetti", "sparkles", "rings", "zigzag", "blobs")

# The words adverts carry. ASCII only: Pillow's built-in font lacks some glyphs (no euro sign).
BRANDS: tuple[str, ...] = (
    "Norda",
    "Lumio",
    "Velox",
    "Kivo",
    "Orbit",
    "Stratus",
    "Pebble",
    "Aurel",
    "Moxa",
    "Tandem",
    "Brisk",
    "Halcyon",
    "Zephy",
    "Copper",
    "Nimbus",
    "Fable",
)
HEADLINES: dict[str, tuple[str, ...]] = {
    "bottle": ("Stay Fresh All Day", "Hydration, Upgraded", "Drink Better"),
    "sneaker": ("Run Further", "Made to Move", "Step Up Your Game"),
    "phone": ("Power in Your Pocket", "Brilliant Display", "Say Hello to X2"),
    "coffee": ("Brew Your Morning", "Fresh Roast Daily", "Your Daily Ritual"),
    "handbag": ("Carry Your Style", "The Everyday Bag", "New Season Colours"),
    "car": ("Drive the Future", "Room for Everyone", "Built for the Road"),
    "headphones": ("Hear Every Beat", "Pure Sound", "Noise Off, Music On"),
    "watch": ("Time, Well Spent", "Classic Never Fades", "Always On Time"),
    "laptop": ("Work From Anywhere", "Thin. Light. Fast.", "Create Without Limits"),
    "perfume": ("A Scent to Remember", "Pure Elegance", "Bloom Eau de Parfum"),
    "backpack": ("Pack for Adventure", "Everyday Carry", "Ready for Anything"),
    "sunglasses": ("See the Bright Side", "Shades On", "Look Sharp"),
    "camera": ("Capture Every Moment", "Shoot Like a Pro", "Memories in Focus"),
    "suitcase": ("Travel Light", "Go Further", "Pack. Roll. Explore."),
}
SUBLINES: tuple[str, ...] = (
    "Free shipping on all orders",
    "Available now online and in store",
    "Limited edition",
    "New collection out now",
    "Order today, delivered tomorrow",
    "Two-year warranty included",
)
PRICE_RANGES: dict[str, tuple[int, int]] = {
    "bottle": (12, 29),
    "sneaker": (79, 149),
    "phone": (499, 999),
    "coffee": (3, 5),
    "handbag": (89, 249),
    "car": (189, 399),
    "headphones": (59, 299),
    "watch": (129, 399),
    "laptop": (799, 1499),
    "perfume": (49, 119),
    "backpack": (39, 99),
    "sunglasses": (29, 149),
    "camera": (299, 899),
    "suitcase": (99, 249),
}
PALETTE_GRADING: dict[str, str] = {
    "coral": "warm coral",
    "teal": "cool teal",
    "mustard": "warm yellow",
    "navy": "deep navy",
    "lavender": "soft lavender",
    "mint": "soft mint",
    "charcoal": "dark charcoal",
    "peach": "soft peach",
    "sky": "light sky blue",
    "cream": "light cream",
    "berry": "deep berry",
    "forest": "deep forest green",
}
