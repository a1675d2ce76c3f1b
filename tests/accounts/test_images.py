"""Tests for accounts.images: every image is made with Pillow here, nothing is read from disk."""

import io
import re
import struct
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageFile

from accounts.images import (
    DAMAGED_MESSAGE,
    EMPTY_MESSAGE,
    UNSUPPORTED_MESSAGE,
    ImageRejected,
    NormalizedImage,
    normalize_image,
)

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
MB = 1024 * 1024


# Helpers


def encode(image: Image.Image, image_format: str, **options) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    buffer.seek(0)
    return buffer


def solid(color, size=(120, 80), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


def normalize(upload, **limits) -> NormalizedImage:
    limits = {"max_bytes": 5 * MB, "max_pixels": 40_000_000, **limits}
    return normalize_image(upload, **limits)


def rejection(upload, **limits) -> str:
    with pytest.raises(ImageRejected) as caught:
        normalize(upload, **limits)
    return str(caught.value)


def output_image(result: NormalizedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    assert image.format == "WEBP"
    return image


def assert_color_close(actual, expected, tolerance=12):
    actual, expected = tuple(actual)[:3], tuple(expected)[:3]
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        f"{actual} is not close to {expected}"
    )


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def pixel(image: Image.Image, x: int, y: int):
    return image.convert("RGB").getpixel((x, y))


def side_by_side(left, right, size=(200, 100)) -> Image.Image:
    image = solid(left, size)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def srgb_with_red_and_green_swapped() -> bytes:
    """An RGB colour profile that is sRGB with its red and green primaries exchanged.

    A pure red pixel tagged with it is really green, so the output shows whether the profile
    was applied rather than merely dropped.
    """
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (tag_count,) = struct.unpack_from(">I", profile, 128)
    entries = {}
    for index in range(tag_count):
        entry = 132 + 12 * index
        entries[bytes(profile[entry : entry + 4])] = entry
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    # Swap where the two tags point (offset and size; the signatures stay in place).
    profile[red + 4 : red + 12], profile[green + 4 : green + 12] = (
        profile[green + 4 : green + 12],
        profile[red + 4 : red + 12],
    )
    profile[84:100] = bytes(16)  # the profile ID is a checksum of the bytes: "not computed"
    return bytes(profile)


@pytest.fixture(scope="module")
def hundred_megapixel_png() -> bytes:
    # 1-bit and a single colour: about 12 MB in memory to make, a few KB as a file.
    return encode(Image.new("1", (10_000, 10_000)), "PNG").getvalue()


# Accepted formats


@pytest.mark.parametrize(
    ("image_format", "mode"), [("JPEG", "RGB"), ("PNG", "RGB"), ("GIF", "P"), ("WEBP", "RGB")]
)
def test_each_accepted_format_is_reencoded_as_webp_of_the_same_size(image_format, mode):
    upload = encode(solid(RED).convert(mode), image_format)

    result = normalize(upload)

    output = output_image(result)
    assert output.size == (120, 80)
    assert (result.width, result.height) == (120, 80)
    assert (result.format, result.extension, result.content_type) == (
        "WEBP",
        "webp",
        "image/webp",
    )
    assert result.content != upload.getvalue()
    assert_color_close(pixel(output, 60, 40), RED)


def test_png_with_transparency_keeps_its_alpha_channel():
    image = solid((*RED, 255), mode="RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 60, 80))

    output = output_image(normalize(encode(image, "PNG")))

    assert output.mode == "RGBA"
    assert output.getpixel((10, 40))[3] == 0
    assert output.getpixel((110, 40))[3] == 255


def test_png_with_a_fully_opaque_alpha_channel_comes_out_opaque():
    upload = encode(solid((*RED, 255), mode="RGBA"), "PNG")

    output = output_image(normalize(upload))

    assert output.mode == "RGB"


def test_gif_with_a_transparent_colour_keeps_its_transparency():
    image = solid(RED).convert("P")
    image.paste(255, (0, 0, 60, 80))
    upload = encode(image, "GIF", transparency=255)

    output = output_image(normalize(upload))

    assert output.mode == "RGBA"
    assert output.getpixel((10, 40))[3] == 0


def test_animated_gif_keeps_only_its_first_frame():
    frames = [solid(RED).convert("P"), solid(BLUE).convert("P")]
    upload = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    output = output_image(normalize(upload))

    assert getattr(output, "n_frames", 1) == 1
    assert_color_close(pixel(output, 60, 40), RED)


def test_animated_webp_keeps_only_its_first_frame():
    upload = encode(solid(GREEN), "WEBP", save_all=True, append_images=[solid(BLUE)], duration=100)

    output = output_image(normalize(upload))

    assert getattr(output, "n_frames", 1) == 1
    assert_color_close(pixel(output, 60, 40), GREEN)


def test_django_uploaded_file_is_accepted_and_left_rewound():
    upload = SimpleUploadedFile("me.png", encode(solid(RED), "PNG").getvalue(), "image/png")
    upload.read()  # e.g. a form field already looked at it

    result = normalize(upload)

    assert (result.width, result.height) == (120, 80)
    assert upload.tell() == 0


def test_file_exactly_at_the_byte_limit_is_accepted():
    upload = encode(solid(RED), "PNG")

    result = normalize(upload, max_bytes=len(upload.getvalue()))

    assert result.width == 120


# Refused files: cheap checks first


def test_empty_file_is_refused():
    with pytest.raises(ImageRejected) as caught:
        normalize(io.BytesIO(b""))

    assert str(caught.value) == EMPTY_MESSAGE
    assert caught.value.message == EMPTY_MESSAGE


def test_file_over_the_byte_limit_is_refused_with_both_sizes():
    upload = io.BytesIO(b"\0" * 3000)

    assert rejection(upload, max_bytes=2048) == "The image is 2.9 KB; the limit is 2 KB."


def test_declared_upload_size_is_refused_without_reading_the_file():
    class HugeUpload:
        size = int(25.3 * MB)

        def read(self, size=-1):
            pytest.fail("an upload over the limit must not be read")

    assert rejection(HugeUpload(), max_bytes=20 * MB) == "The image is 25.3 MB; the limit is 20 MB."


def test_unseekable_stream_over_the_byte_limit_is_refused():
    class Stream:
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def read(self, size=-1):
            return self._data.read(size)

    message = rejection(Stream(b"\0" * 5000), max_bytes=1024)

    assert message == "The image is more than 1 KB; the limit is 1 KB."


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = b"Just some notes, saved with an image's name.\n"


@pytest.mark.parametrize(
    ("data", "name"),
    [(SVG, "drawing.svg"), (HTML, "photo.jpg"), (PDF, "scan.pdf"), (TEXT, "notes.png")],
    ids=["svg", "html-renamed-jpg", "pdf", "text"],
)
def test_files_that_are_not_images_are_refused_as_unsupported(data, name):
    upload = SimpleUploadedFile(name, data, "image/jpeg")

    assert rejection(upload) == UNSUPPORTED_MESSAGE


def test_formats_pillow_could_read_but_we_do_not_accept_are_refused():
    upload = encode(solid(RED), "BMP")

    assert rejection(upload) == UNSUPPORTED_MESSAGE


def test_100_megapixel_png_is_refused_from_its_header_without_decoding(
    hundred_megapixel_png, monkeypatch
):
    def fail_load(self):
        pytest.fail("the pixel limit must be checked before any pixel data is decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", fail_load)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not leak out
        message = rejection(io.BytesIO(hundred_megapixel_png), max_bytes=20 * MB)

    assert message == (
        "The image is 10000 \N{MULTIPLICATION SIGN} 10000 pixels (100 megapixels); "
        "the limit is 40 megapixels."
    )


def test_image_over_pillows_own_bomb_limit_is_refused(monkeypatch):
    # Pillow raises DecompressionBombError past twice its limit, before the size is known to us.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    upload = encode(Image.new("1", (2000, 1100)), "PNG")

    message = rejection(upload, max_pixels=50_000_000)

    assert message == "The image has too many pixels; the limit is 1 megapixels."


def test_truncated_jpeg_is_refused_as_damaged():
    noise = Image.effect_noise((400, 300), 80).convert("RGB")
    data = encode(noise, "JPEG", quality=95).getvalue()

    assert rejection(io.BytesIO(data[: len(data) // 2])) == DAMAGED_MESSAGE


def test_png_with_corrupted_pixel_data_is_refused_as_damaged():
    data = bytearray(encode(Image.effect_noise((200, 200), 80), "PNG").getvalue())
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 60] = bytes(50)  # garbage in the compressed pixels, CRC now wrong

    assert rejection(io.BytesIO(bytes(data))) == DAMAGED_MESSAGE


# Metadata and orientation


def test_jpeg_exif_with_gps_is_removed_and_its_orientation_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the stored image must be turned 90 degrees clockwise
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    upload = encode(side_by_side(RED, BLUE), "JPEG", exif=exif.tobytes())
    assert Image.open(upload).getexif().get_ifd(0x8825), "the test image should carry GPS data"
    upload.seek(0)

    output = output_image(normalize(upload))

    assert output.size == (100, 200)
    assert_color_close(pixel(output, 50, 20), RED)  # the left half is now on top
    assert_color_close(pixel(output, 50, 180), BLUE)
    assert not output.getexif()
    assert not {"exif", "icc_profile", "xmp"} & output.info.keys()


def test_webp_metadata_is_removed():
    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = encode(solid(RED), "WEBP", exif=exif.tobytes(), xmp=xmp, icc_profile=icc)
    assert {"exif", "xmp", "icc_profile"} <= Image.open(upload).info.keys()
    upload.seek(0)

    output = output_image(normalize(upload))

    assert not output.getexif()
    assert not {"exif", "icc_profile", "xmp"} & output.info.keys()


# Colour


def test_cmyk_jpeg_comes_out_as_rgb():
    upload = encode(solid((255, 0, 0, 0), mode="CMYK"), "JPEG")  # full cyan ink

    output = output_image(normalize(upload))

    assert output.mode == "RGB"
    assert_color_close(pixel(output, 60, 40), (0, 255, 255))


def test_embedded_colour_profile_is_converted_to_srgb_and_removed():
    upload = encode(solid(RED), "PNG", icc_profile=srgb_with_red_and_green_swapped())

    output = output_image(normalize(upload))

    assert "icc_profile" not in output.info
    assert_color_close(pixel(output, 60, 40), GREEN, tolerance=40)


def test_broken_colour_profile_is_ignored():
    upload = encode(solid(RED), "PNG", icc_profile=b"definitely not an ICC profile")

    output = output_image(normalize(upload))

    assert "icc_profile" not in output.info
    assert_color_close(pixel(output, 60, 40), RED)


def test_16_bit_greyscale_png_keeps_its_brightness():
    upload = encode(Image.new("I;16", (64, 64), 32768), "PNG")

    output = output_image(normalize(upload))

    assert output.mode == "RGB"
    assert_color_close(pixel(output, 32, 32), (128, 128, 128))


# Size


def test_longest_side_is_scaled_down_to_max_side_keeping_the_aspect_ratio():
    upload = encode(solid(RED, (3000, 1500)), "PNG")

    result = normalize(upload, max_side=1000)

    assert (result.width, result.height) == (1000, 500)
    assert output_image(result).size == (1000, 500)


def test_small_image_is_not_enlarged_to_max_side():
    result = normalize(encode(solid(RED, (300, 200)), "PNG"), max_side=4096)

    assert (result.width, result.height) == (300, 200)


def test_square_crops_the_centre_and_resizes_to_exactly_that_size():
    # Blue bands on the left and right quarters: a centre crop cuts both away.
    image = solid(BLUE, (2400, 1200))
    image.paste(RED, (600, 0, 1800, 1200))
    upload = encode(image, "JPEG", quality=95)

    result = normalize(upload, square=256)

    output = output_image(result)
    assert (result.width, result.height) == (256, 256)
    assert output.size == (256, 256)
    for x in (3, 128, 252):
        assert_color_close(pixel(output, x, 128), RED)


def test_square_enlarges_a_small_avatar():
    result = normalize(encode(solid(RED, (64, 48)), "PNG"), square=256)

    assert output_image(result).size == (256, 256)


# Placeholder colour


def test_dominant_color_of_a_mostly_red_image_is_red():
    image = solid(RED, (100, 100))
    image.paste(BLUE, (0, 0, 20, 100))

    color = normalize(encode(image, "PNG")).dominant_color

    assert re.fullmatch(r"#[0-9a-f]{6}", color)
    assert_color_close(hex_to_rgb(color), RED, tolerance=8)


def test_dominant_color_ignores_transparent_pixels():
    image = Image.new("RGBA", (100, 100), (*BLUE, 0))
    image.paste((*GREEN, 255), (0, 0, 30, 100))

    color = normalize(encode(image, "PNG")).dominant_color

    assert_color_close(hex_to_rgb(color), GREEN, tolerance=8)
