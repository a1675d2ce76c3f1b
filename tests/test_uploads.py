"""The image pipeline against hostile files: HTML or script hidden in a valid image, animated GIF
bombs, and dimensions far over the limit. Every upload is decoded once and re-encoded as WebP,
so whatever rode along in the file is gone; what cannot be decoded safely is refused with a
message the person can act on, and nothing is stored.

Files are real images made with Pillow; the pipeline is the one pins and avatars use."""

import io
import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import GifImagePlugin, Image, PngImagePlugin

from accounts.images import ImageRejected, normalize_image
from pinboard.images import normalize_pin_upload
from pinboard.models import Pin, PinImage
from tests.factories import BoardFactory, UserFactory

SCRIPT = b"<script>alert(document.cookie)</script>"
TIMES = "\N{MULTIPLICATION SIGN}"
HTML = b"<html><body onload=alert(1)>" + SCRIPT + b"</body></html>"


def image_bytes(image_format: str, *, size=(64, 48), **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=image_format, **save_options)
    return buffer.getvalue()


def normalized(data: bytes, **limits):
    options = {"max_bytes": settings.MAX_UPLOAD_BYTES, "max_pixels": settings.MAX_IMAGE_PIXELS}
    return normalize_image(io.BytesIO(data), **{**options, **limits})


def assert_clean_webp(content: bytes) -> None:
    assert content[:4] == b"RIFF"
    assert content[8:12] == b"WEBP"
    assert b"<script" not in content.lower()
    assert b"alert(" not in content
    assert b"<html" not in content.lower()


# --- Disguised files --------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_html_appended_to_a_valid_image_is_dropped(image_format):
    data = image_bytes(image_format) + HTML
    result = normalized(data)
    assert_clean_webp(result.content)
    assert (result.width, result.height) == (64, 48)


def test_html_in_a_png_text_chunk_is_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HTML.decode())
    info.add_itxt("Description", SCRIPT.decode())
    data = image_bytes("PNG", pnginfo=info)
    assert SCRIPT in data  # the payload really is in the upload
    assert_clean_webp(normalized(data).content)


def test_script_in_a_jpeg_comment_and_exif_is_dropped():
    exif = Image.Exif()
    exif[0x010E] = SCRIPT.decode()  # ImageDescription
    exif[0x013B] = HTML.decode()  # Artist
    data = image_bytes("JPEG", comment=HTML, exif=exif)
    assert data.count(SCRIPT) >= 2
    assert_clean_webp(normalized(data).content)


def test_script_in_a_gif_comment_is_dropped():
    data = image_bytes("GIF", comment=HTML)
    assert SCRIPT in data
    assert_clean_webp(normalized(data).content)


def test_an_html_page_named_like_an_image_is_refused():
    with pytest.raises(ImageRejected, match=r"Upload a JPEG, PNG, GIF or WebP image\."):
        normalized(HTML)


def test_html_before_the_image_header_is_refused():
    """A polyglot that starts as HTML is not an image to Pillow: refused, never stored."""
    with pytest.raises(ImageRejected):
        normalized(HTML + image_bytes("PNG"))


# --- Animated GIF bombs and huge dimensions ---------------------------------------------------


def gif_bomb(*, side: int, frames: int) -> bytes:
    """An animated GIF with a side x side canvas and many frames (each differs a little, so
    Pillow does not merge them). Small on disk; every frame decoded would be side² pixels."""

    def frame(number):
        image = Image.new("P", (side, side), 0)
        image.putpixel((number % side, number // side), 1 + number % 200)
        return image

    buffer = io.BytesIO()
    first = frame(0)
    first.save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=(frame(number) for number in range(1, frames)),
        duration=10,
        loop=0,
    )
    return buffer.getvalue()


def test_an_animated_gif_bomb_keeps_only_its_first_frame_and_decodes_no_other(monkeypatch):
    data = gif_bomb(side=2000, frames=30)
    with Image.open(io.BytesIO(data)) as check:
        assert check.n_frames == 30
        assert check.size == (2000, 2000)

    later_frames = []
    original_seek = GifImagePlugin.GifImageFile.seek

    def seek(self, frame):
        if frame > 0:
            later_frames.append(frame)
        return original_seek(self, frame)

    monkeypatch.setattr(GifImagePlugin.GifImageFile, "seek", seek)  # Pillow's, only watched
    result = normalized(data)

    assert later_frames == []  # 29 frames of 4 megapixels never decoded
    assert (result.width, result.height) == (2000, 2000)
    with Image.open(io.BytesIO(result.content)) as output:
        assert getattr(output, "n_frames", 1) == 1


def huge_canvas_gif(width: int, height: int) -> bytes:
    """A tiny file whose header claims a gigantic canvas (the logical screen size)."""
    data = bytearray(image_bytes("GIF", size=(1, 1)))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def test_a_gif_claiming_a_huge_canvas_is_refused_from_its_header():
    with pytest.raises(ImageRejected) as refused:
        normalized(huge_canvas_gif(10_000, 10_000))
    assert refused.value.message == (
        f"The image is 10000 {TIMES} 10000 pixels (100 megapixels); the limit is 40 megapixels."
    )


def test_a_canvas_past_pillows_own_bomb_limit_is_refused_too():
    # Over twice Pillow's MAX_IMAGE_PIXELS it refuses to open the file at all: the message
    # cannot name the size then, but still says what is wrong and what the limit is.
    with pytest.raises(ImageRejected) as refused:
        normalized(huge_canvas_gif(60_000, 60_000))
    assert refused.value.message == "The image has too many pixels; the limit is 40 megapixels."


def test_a_png_over_the_pixel_limit_is_refused_with_its_size(settings):
    data = image_bytes("PNG", size=(3000, 2000))
    with pytest.raises(ImageRejected) as refused:
        normalized(data, max_pixels=5_000_000)
    assert refused.value.message == (
        f"The image is 3000 {TIMES} 2000 pixels (6 megapixels); the limit is 5 megapixels."
    )


def test_a_huge_upload_is_refused_on_the_pin_form_and_nothing_is_stored(client_for, db):
    owner = UserFactory(username="owner")
    board = BoardFactory(owner=owner, name="Ideas")
    upload = io.BytesIO(huge_canvas_gif(10_000, 10_000))
    upload.name = "huge.gif"

    response = client_for(owner).post(
        reverse("pin_create"),
        {"image": upload, "title": "Huge", "description": "", "source_url": "", "board": board.pk},
    )

    assert response.status_code == 200
    assert f"The image is 10000 {TIMES} 10000 pixels" in response.content.decode()
    assert Pin.objects.count() == 0
    assert PinImage.objects.count() == 0
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_a_disguised_upload_through_the_pin_form_is_stored_clean(client_for, db):
    owner = UserFactory(username="owner")
    board = BoardFactory(owner=owner, name="Ideas")
    upload = io.BytesIO(image_bytes("PNG", size=(120, 90)) + HTML)
    upload.name = "innocent.png.html"

    client_for(owner).post(
        reverse("pin_create"),
        {"image": upload, "title": "Pic", "description": "", "source_url": "", "board": board.pk},
    )

    image = Pin.objects.select_related("image").get(title="Pic").image
    for name in [image.file.name, image.grid.name, image.detail.name]:
        assert name.endswith(".webp")
        assert_clean_webp((Path(settings.MEDIA_ROOT) / name).read_bytes())


def test_the_pin_pipeline_uses_the_configured_pixel_limit(settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    data = image_bytes("PNG", size=(1200, 1000))
    with pytest.raises(ImageRejected, match="the limit is 1 megapixels"):
        normalize_pin_upload(io.BytesIO(data))
