"""Draws the installable app's icons (static/icons/icon-*.png) from the logo's shapes
(static/icons/logo.svg: a white pin on a red disc). The PNGs are committed; run this again only
to change them: `.venv/bin/python -m messaging.pwa_icons`."""

from pathlib import Path

from PIL import Image, ImageDraw

RED = (200, 16, 46, 255)  # --red in static/css/app.css
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
SUPERSAMPLE = 4


def _pin(draw: ImageDraw.ImageDraw, unit: float, offset: float) -> None:
    """The logo's pin, in its 32-unit box scaled by `unit` and moved by `offset`."""

    def at(x: float, y: float) -> tuple[float, float]:
        return offset + x * unit, offset + y * unit

    draw.ellipse([*at(10, 7), *at(22, 19)], fill=WHITE)  # the head: r 6 around (16, 13)
    draw.rectangle([*at(14, 17), *at(18, 26)], fill=WHITE)  # the needle
    draw.polygon([at(14, 26), at(18, 26), at(16, 28)], fill=WHITE)  # its point


def icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        # Full bleed: the platform cuts its own shape; the pin stays in the central safe zone
        # (a circle of 80% of the width).
        draw.rectangle([0, 0, big, big], fill=RED)
        unit = big * 0.6 / 32
        _pin(draw, unit, (big - 32 * unit) / 2)
    else:
        unit = big / 32
        draw.ellipse([unit, unit, 31 * unit, 31 * unit], fill=RED)
        _pin(draw, unit, 0)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    icon(192, maskable=False).save(OUT / "icon-192.png", optimize=True)
    icon(512, maskable=False).save(OUT / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
