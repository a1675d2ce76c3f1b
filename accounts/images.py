"""Validation and re-encoding of every uploaded image (avatars now, pin images later).

Uploaded bytes are never stored or served as they are. Each upload is checked against cheap
limits first, then decoded once and written out again as a WebP image in sRGB with no metadata.
Re-encoding this way:

* drops EXIF, so a photo's GPS position and camera serial number never leave the server;
* removes anything hidden in a file that is also valid as something else (HTML, scripts);
* gives browsers one format, with colours that look the same everywhere.
"""

import contextlib
import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# Formats people actually upload from phones and browsers. Pillow can read many more, but every
# extra decoder is extra attack surface for no benefit to a pinboard.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")

# Quality 85 is visually lossless for photos at about half the size of quality 95.
# Method 4 is libwebp's default: method 6 saves a few percent more but takes about twice as long,
# and this runs inside the upload request.
WEBP_QUALITY = 85
WEBP_METHOD = 4

# The placeholder colour is computed on a thumbnail this big: enough to find the main colour,
# small enough to be instant.
DOMINANT_COLOR_SAMPLE = (64, 64)
DOMINANT_COLOR_PALETTE = 8

EMPTY_MESSAGE = "The file is empty. Choose an image to upload."
UNSUPPORTED_MESSAGE = "Upload a JPEG, PNG, GIF or WebP image."
DAMAGED_MESSAGE = "The image file is damaged or incomplete. Try exporting it again."

# What Pillow raises for data it cannot decode. Pillow is not consistent about it across formats,
# so each of these counts as "damaged" (never as a server error).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)

# What a file-like object without (working) seek support raises.
_SEEK_ERRORS = (AttributeError, OSError, ValueError)

_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(ValueError):
    """Raised with a message a person can act on (shown under the upload field)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NormalizedImage:
    content: bytes  # the re-encoded bytes (never the uploaded bytes)
    width: int
    height: int
    dominant_color: str  # "#rrggbb", lowercase, used as a placeholder background
    format: str = "WEBP"
    extension: str = "webp"
    content_type: str = "image/webp"


class BinaryFile(Protocol):
    """What an upload must offer: Django's UploadedFile and io.BytesIO both do."""

    def read(self, size: int = -1, /) -> bytes: ...


def normalize_image(
    upload: BinaryFile,
    *,
    max_bytes: int,
    max_pixels: int,
    max_side: int | None = 4096,
    square: int | None = None,
) -> NormalizedImage:
    """Check an uploaded image and re-encode it as a metadata-free sRGB WebP.

    Raises ImageRejected, with a message for the uploader, when the file is empty, too big in
    bytes or pixels, not a JPEG/PNG/GIF/WebP image, or damaged. Animated images keep their first
    frame. The result is at most `max_side` pixels on its longest side; with `square`, it is
    centre-cropped to exactly `square` x `square` pixels.
    """
    data = _read_within_limit(upload, max_bytes)
    opened = _open_checked(data, max_pixels)
    try:
        _decode_first_frame(opened, max_pixels, draft_side=square or max_side)
        image = _to_srgb(opened)  # always a new image...
    finally:
        opened.close()  # ...so the decoded original, maybe many megapixels, is freed right away
    image = _resize(image, max_side=max_side, square=square)
    return NormalizedImage(
        content=_encode_webp(image),
        width=image.width,
        height=image.height,
        dominant_color=_dominant_color(image),
    )


# Cheap checks, before any pixel data is decoded.


def _read_within_limit(upload: BinaryFile, max_bytes: int) -> bytes:
    size = _declared_size(upload)
    if size == 0:
        raise ImageRejected(EMPTY_MESSAGE)
    if size is not None and size > max_bytes:
        raise _too_large(size, max_bytes)
    _rewind(upload)
    # One byte more than allowed tells "over the limit" apart even when the size was unknown.
    data = upload.read(max_bytes + 1)
    _rewind(upload)  # callers may still want to read or save the upload
    if not data:
        raise ImageRejected(EMPTY_MESSAGE)
    if len(data) > max_bytes:
        raise _too_large(None, max_bytes)
    return data


def _declared_size(upload: BinaryFile) -> int | None:
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        return size
    try:
        position = upload.tell()  # type: ignore[attr-defined]
        end = upload.seek(0, io.SEEK_END)  # type: ignore[attr-defined]
        upload.seek(position)  # type: ignore[attr-defined]
    except _SEEK_ERRORS:
        return None  # not seekable: the bounded read still enforces the limit
    return end


def _rewind(upload: BinaryFile) -> None:
    with contextlib.suppress(*_SEEK_ERRORS):
        upload.seek(0)  # type: ignore[attr-defined]


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Identify the format and read the dimensions from the header, without decoding pixels."""
    limit = _pixel_limit(max_pixels)
    with warnings.catch_warnings():
        # Pillow warns while opening an image over its own MAX_IMAGE_PIXELS. The limit below
        # includes Pillow's, so the warning adds nothing, and our check can name the dimensions.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except Image.DecompressionBombError as exc:
            raise _too_many_pixels(None, limit) from exc
        except UnidentifiedImageError as exc:
            raise ImageRejected(UNSUPPORTED_MESSAGE) from exc
        except _DECODE_ERRORS as exc:
            raise ImageRejected(DAMAGED_MESSAGE) from exc
    if image.width * image.height > limit:
        image.close()
        raise _too_many_pixels(image.size, limit)
    return image


def _pixel_limit(max_pixels: int) -> int:
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return min(max_pixels, pillow_limit) if pillow_limit else max_pixels


# Decoding and conversion.


def _decode_first_frame(image: Image.Image, max_pixels: int, *, draft_side: int | None) -> None:
    if draft_side:
        # JPEG can decode at 1/2, 1/4 or 1/8 scale for almost free. Asking for at least the size
        # we will resize to anyway keeps a 50-megapixel photo from ever being decoded in full.
        image.draft(None, (draft_side, draft_side))
    with warnings.catch_warnings():
        # Belt and braces: should Pillow find a bigger frame than the header said, refuse it.
        # (Warning filters are process-wide before Python 3.14; another thread at worst sees
        # this filter briefly, and the same check applies to its images anyway.)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Only the current frame is decoded: the first one, for an animated GIF or WebP.
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(None, _pixel_limit(max_pixels)) from exc
        except _DECODE_ERRORS as exc:
            raise ImageRejected(DAMAGED_MESSAGE) from exc


def _to_srgb(image: Image.Image) -> Image.Image:
    """Return a new RGB or RGBA image in sRGB, the colour space browsers assume."""
    alpha = _visible_alpha(image)
    rgb = _apply_icc_profile(_colour_channels(image), image.info.get("icc_profile"))
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def _visible_alpha(image: Image.Image) -> Image.Image | None:
    """The alpha channel, or None when nothing is actually transparent.

    Many exports add an alpha channel that is fully opaque. Dropping it makes resizing cheaper
    and the output RGB without relying on the encoder to notice the channel is useless.
    """
    if not image.has_transparency_data:
        return None
    if "A" in image.getbands():
        alpha = image.getchannel("A")
    else:  # a palette or colour-key transparency ("transparency" in image.info)
        alpha = image.convert("RGBA").getchannel("A")
    lowest, _ = alpha.getextrema()
    return alpha if lowest < 255 else None


def _colour_channels(image: Image.Image) -> Image.Image:
    """The colour part of the image in a mode an ICC profile can apply to: RGB, CMYK or L."""
    if image.mode in ("RGB", "CMYK", "L"):
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG. Pillow's own conversion clips to 255 (almost everything turns
        # white), so scale 0-65535 down to 0-255 first.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "LA":
        return image.convert("L")
    return image.convert("RGB")  # palette, RGBA, 1-bit...


def _apply_icc_profile(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert to sRGB RGB, using the embedded profile when there is one (always a new image).

    Without converting, a photo from a wide-gamut camera or a CMYK print file shows dull or
    wrong colours once the profile is stripped.
    """
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # broken, or not matching the image's mode: plain conversion is close enough
    return image.convert("RGB")


def _resize(image: Image.Image, *, max_side: int | None, square: int | None) -> Image.Image:
    if max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)  # only ever shrinks
    if square:
        image = ImageOps.fit(image, (square, square), Image.Resampling.LANCZOS)
    return image


# Output.


def _encode_webp(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Metadata is passed as empty on purpose rather than left out, so that it stays out even if
    # Pillow starts copying `image.info` into saved files by default.
    image.save(
        buffer,
        format="WEBP",
        quality=WEBP_QUALITY,
        method=WEBP_METHOD,
        exif=b"",
        icc_profile=b"",
        xmp=b"",
    )
    return buffer.getvalue()


def _dominant_color(image: Image.Image) -> str:
    """The most common colour, as "#rrggbb", to show while the image itself loads."""
    sample = image.resize(DOMINANT_COLOR_SAMPLE, Image.Resampling.BOX)
    visible = None
    if sample.mode == "RGBA":
        # Count only the pixels people will see; transparent ones can have any colour.
        visible = sample.getchannel("A").point(lambda value: 255 if value >= 128 else 0)
        if visible.getbbox() is None:
            visible = None  # nothing visible: any colour is as good as another
    quantized = sample.convert("RGB").quantize(colors=DOMINANT_COLOR_PALETTE)
    counts = quantized.histogram(mask=visible)
    most_common = max(range(len(counts)), key=counts.__getitem__)
    palette = quantized.getpalette() or []
    red, green, blue = palette[most_common * 3 : most_common * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


# Messages.


def _too_large(size: int | None, max_bytes: int) -> ImageRejected:
    limit = _human_size(max_bytes)
    actual = _human_size(size) if size is not None else limit
    if actual == limit:  # unknown, or rounds to the limit: "20 MB; the limit is 20 MB" confuses
        actual = f"more than {limit}"
    return ImageRejected(f"The image is {actual}; the limit is {limit}.")


def _too_many_pixels(size: tuple[int, int] | None, limit: int) -> ImageRejected:
    limit_text = f"{_megapixels(limit)} megapixels"
    if size is None:
        return ImageRejected(f"The image has too many pixels; the limit is {limit_text}.")
    width, height = size
    actual = f"{_megapixels(width * height)} megapixels"
    if actual == limit_text:
        actual = f"more than {limit_text}"
    return ImageRejected(
        f"The image is {width} \N{MULTIPLICATION SIGN} {height} pixels ({actual}); "
        f"the limit is {limit_text}."
    )


def _human_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{_one_decimal(size / factor)} {unit}"
    return f"{size} bytes"


def _megapixels(pixels: int) -> str:
    return _one_decimal(pixels / 1_000_000)


def _one_decimal(value: float) -> str:
    """25.3 stays "25.3" but 20.0 becomes "20": trailing zeros read as false precision."""
    return f"{value:.1f}".removesuffix(".0")
