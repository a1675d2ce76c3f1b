"""Pleasant abstract pictures drawn with Pillow: demo pin images with no files to ship.

Picture `n` is always the same picture: a soft gradient in one of 24 colour schemes with a simple
motif on top (a sun over hills, arches, bands, circles, dots or waves), in one of the aspect
ratios people pin most (2:3, 1:1, 3:4, 9:16, 4:3).
"""

import io

from PIL import Image, ImageDraw, ImageFilter

WIDTH = 720  # the width of a portrait or square picture; a landscape one is as high as this
RATIOS = ((2, 3), (1, 1), (3, 4), (9, 16), (4, 3))

# (light, mid, accent): the gradient runs from light to mid, the motif is drawn in the accent.
SCHEMES = (
    ("#f4d6c6", "#e07a5f", "#3d405b"),
    ("#f2e8cf", "#a7c957", "#386641"),
    ("#caf0f8", "#48cae4", "#03045e"),
    ("#ffe5ec", "#ffafcc", "#6d597a"),
    ("#fefae0", "#dda15e", "#bc6c25"),
    ("#e9edc9", "#ccd5ae", "#606c38"),
    ("#f1faee", "#a8dadc", "#1d3557"),
    ("#fff1e6", "#f28482", "#84a59d"),
    ("#edede9", "#d6ccc2", "#a47148"),
    ("#e0fbfc", "#98c1d9", "#ee6c4d"),
    ("#f8edeb", "#fcd5ce", "#b56576"),
    ("#d8e2dc", "#9d8189", "#4a4e69"),
    ("#fcefb4", "#f9dc5c", "#ed6a5a"),
    ("#eae2b7", "#fcbf49", "#d62828"),
    ("#cdb4db", "#a2d2ff", "#3a0ca3"),
    ("#e2ece9", "#bee1e6", "#2a9d8f"),
    ("#fde2e4", "#e2ece9", "#264653"),
    ("#f7ede2", "#f6bd60", "#84a59d"),
    ("#ede0d4", "#b08968", "#7f5539"),
    ("#e3f2fd", "#90caf9", "#1565c0"),
    ("#f0efeb", "#b7b7a4", "#6b705c"),
    ("#ffd6a5", "#ffadad", "#9b5de5"),
    ("#d9ed92", "#76c893", "#184e77"),
    ("#f5ebe0", "#e3d5ca", "#d5bdaf"),
)


def picture_size(n: int) -> tuple[int, int]:
    across, down = RATIOS[n % len(RATIOS)]
    if across > down:  # landscape: as high as a portrait picture is wide
        return round(WIDTH * across / down), WIDTH
    return WIDTH, round(WIDTH * down / across)


def picture_png(n: int) -> bytes:
    """Picture number `n` (any n >= 0) as PNG bytes, ready for the upload pipeline."""
    light, mid, accent = SCHEMES[n % len(SCHEMES)]
    size = picture_size(n)
    image = _gradient(size, light, mid, direction=n % 3)
    motif = _MOTIFS[(n + n // len(SCHEMES)) % len(_MOTIFS)]
    mask = Image.new("L", size, 0)
    motif(ImageDraw.Draw(mask), *size)
    # A slight blur gives the shapes soft, anti-aliased edges.
    mask = mask.filter(ImageFilter.GaussianBlur(1.5))
    image.paste(Image.new("RGB", size, accent), mask=mask)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _gradient(size: tuple[int, int], start: str, end: str, *, direction: int) -> Image.Image:
    ramp = Image.linear_gradient("L")  # 256 x 256, black at the top to white at the bottom
    if direction == 1:
        ramp = ramp.rotate(90)
    elif direction == 2:
        ramp = Image.radial_gradient("L")
    return Image.composite(
        Image.new("RGB", size, end), Image.new("RGB", size, start), ramp.resize(size)
    )


# Motifs draw on an "L" mask: 255 is fully the accent colour, lower values let the gradient through.


def _sun_over_hills(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    radius = width * 0.18
    cx, cy = width * 0.62, height * 0.32
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=150)
    draw.polygon(
        [
            (0, height * 0.72),
            (width * 0.35, height * 0.55),
            (width * 0.7, height * 0.7),
            (width, height * 0.6),
            (width, height),
            (0, height),
        ],
        fill=230,
    )


def _arches(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    for step, fill in enumerate((90, 150, 210, 255)):
        inset = width * (0.1 + step * 0.09)
        top = height * (0.3 + step * 0.07)
        draw.rounded_rectangle(
            (inset, top, width - inset, height + width), radius=(width - 2 * inset) / 2, fill=fill
        )


def _bands(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    band = max(width, height) / 7
    for i in range(-2, 12, 2):
        offset = i * band
        draw.polygon(
            [
                (offset, 0),
                (offset + band, 0),
                (offset + band - height, height),
                (offset - height, height),
            ],
            fill=120 + 20 * (i % 4),
        )


def _circles(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    for x, y, r, fill in ((0.3, 0.35, 0.22, 110), (0.62, 0.5, 0.28, 170), (0.42, 0.72, 0.16, 235)):
        cx, cy, radius = width * x, height * y, width * r
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)


def _dots(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    gap = width / 8
    radius = gap * 0.22
    for row in range(int(height / gap) + 1):
        for col in range(9):
            cx = col * gap + (gap / 2 if row % 2 else 0)
            cy = row * gap + gap / 2
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=200)


def _waves(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    for i, fill in enumerate((80, 140, 200, 250)):
        base = height * (0.45 + i * 0.13)
        amplitude = height * 0.04
        points = [(0, height)]
        for step in range(0, 41):
            x = width * step / 40
            wiggle = ((step + i * 3) % 8) / 8  # a cheap zig-zag, softened by the blur
            points.append((x, base - amplitude * (1 - abs(2 * wiggle - 1)) * 2))
        points.append((width, height))
        draw.polygon(points, fill=fill)


_MOTIFS = (_sun_over_hills, _arches, _bands, _circles, _dots, _waves)
