"""Draw the app's icons into pwa/icons/: a white house on the brand green (pure Python, no Pillow).

Run it again after changing the drawing: `python scripts/make_icons.py`. The output is byte-for-byte
the same on every run, so regenerating unchanged icons does not change the app's version.
"""
from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "pwa" / "icons"

GREEN = (0x0B, 0x6E, 0x4F)  # the theme colour of index.html and the manifest
WHITE = (0xFF, 0xFF, 0xFF)
SUPERSAMPLE = 4  # samples per pixel along each axis: smooth edges without an image library

# The house in a unit square centred on (0.5, 0.5), before scaling: a roof wider than the walls, and
# a door cut out of the walls in the background colour.
ROOF = ((0.50, 0.20), (0.16, 0.49), (0.84, 0.49))
WALLS = (0.27, 0.45, 0.73, 0.79)  # left, top, right, bottom
DOOR = (0.44, 0.60, 0.56, 0.79)

# Maskable icons may be cropped to a circle of radius 0.4 (of the width) around the centre; this
# scale keeps every corner of the house inside it (the farthest, a wall's foot, is at ~0.31).
MASKABLE_HOUSE_SCALE = 0.82


def _in_triangle(x: float, y: float, triangle) -> bool:
    (ax, ay), (bx, by), (cx, cy) = triangle
    d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by)
    d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy)
    d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay)
    negative = d1 < 0 or d2 < 0 or d3 < 0
    positive = d1 > 0 or d2 > 0 or d3 > 0
    return not (negative and positive)


def _in_box(x: float, y: float, box) -> bool:
    left, top, right, bottom = box
    return left <= x <= right and top <= y <= bottom


def _in_rounded_square(x: float, y: float, margin: float, radius: float) -> bool:
    low, high = margin, 1 - margin
    if not (low <= x <= high and low <= y <= high):
        return False
    # Distance past the straight edges into a corner's square; inside if within the corner's circle.
    dx = max(low + radius - x, 0, x - (high - radius))
    dy = max(low + radius - y, 0, y - (high - radius))
    return dx * dx + dy * dy <= radius * radius


def _in_house(x: float, y: float, scale: float) -> bool:
    # Undo the scaling about the centre, then test the unscaled shapes.
    ux = 0.5 + (x - 0.5) / scale
    uy = 0.5 + (y - 0.5) / scale
    if _in_box(ux, uy, DOOR):
        return False
    return _in_triangle(ux, uy, ROOF) or _in_box(ux, uy, WALLS)


def draw(size: int, *, full_bleed: bool, house_scale: float) -> list[bytes]:
    """RGBA rows of one icon: full_bleed fills the square (maskable, Apple); else a rounded tile."""
    rows = []
    step = 1 / (size * SUPERSAMPLE)
    offsets = [(i + 0.5) * step for i in range(SUPERSAMPLE)]
    samples = SUPERSAMPLE * SUPERSAMPLE
    for py in range(size):
        row = bytearray()
        for px in range(size):
            green = white = 0
            for oy in offsets:
                y = py / size + oy
                for ox in offsets:
                    x = px / size + ox
                    if _in_house(x, y, house_scale):
                        white += 1
                    elif full_bleed or _in_rounded_square(x, y, margin=0.02, radius=0.2):
                        green += 1
            covered = green + white
            if covered == 0:
                row += b"\0\0\0\0"
                continue
            # Colour averaged over the covered samples; alpha is the covered share.
            row += bytes(round((g * green + w * white) / covered) for g, w in zip(GREEN, WHITE))
            row.append(round(255 * covered / samples))
        rows.append(bytes(row))
    return rows


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    """A PNG file: 8-bit RGBA, no interlace, filter 0 on every row."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    pixels = b"".join(b"\0" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b""))


# name: (size, full_bleed, house scale). Apple paints transparency black and rounds the corners
# itself, so its icon fills the square.
ICON_SPECS = {
    "icon-192.png": (192, False, 1.0),
    "icon-512.png": (512, False, 1.0),
    "maskable-512.png": (512, True, MASKABLE_HOUSE_SCALE),
    "apple-touch-icon.png": (180, True, 0.9),
}


def main() -> int:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, (size, full_bleed, scale) in ICON_SPECS.items():
        (ICONS / name).write_bytes(png(size, size, draw(size, full_bleed=full_bleed, house_scale=scale)))
        print(f"wrote {ICONS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
