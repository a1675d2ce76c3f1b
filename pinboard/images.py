"""The pin image pipeline: validated, re-encoded originals and their fixed renditions.

Validation and re-encoding (formats, size and pixel caps before decoding, EXIF orientation,
metadata stripping, sRGB) are shared with avatars in accounts/images.py. This module stores the
result through Django's storage API and lets django-imagekit make the 236/472/736 px WebP
renditions declared on PinImage, once, when the file is saved.
"""

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError

from accounts.images import ImageRejected, NormalizedImage, normalize_image
from pinboard.models import PinImage

__all__ = [
    "ImageRejected",
    "normalize_pin_upload",
    "pin_image_discard",
    "pin_image_store",
    "pin_images_delete_unused",
]

logger = logging.getLogger(__name__)

RENDITIONS = ("grid", "grid_2x", "detail")


def normalize_pin_upload(upload) -> NormalizedImage:
    """Validate and re-encode an uploaded pin image, or raise ImageRejected with a clear message."""
    return normalize_image(
        upload, max_bytes=settings.MAX_UPLOAD_BYTES, max_pixels=settings.MAX_IMAGE_PIXELS
    )


def _stored_names(image: PinImage) -> list[str]:
    names = [image.file.name]
    for rendition in RENDITIONS:
        try:
            names.append(getattr(image, rendition).name)
        except (OSError, ValueError):  # the rendition was never made
            continue
    return names


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Could not delete media file %s", name, exc_info=True)


def pin_image_store(normalized: NormalizedImage) -> PinImage:
    """Save the re-encoded image and its renditions. If the surrounding transaction rolls back,
    the caller's exception path removes the files (see services.pin_create)."""
    image = PinImage(
        width=normalized.width, height=normalized.height, dominant_color=normalized.dominant_color
    )
    image.file.save(f"pin.{normalized.extension}", ContentFile(normalized.content), save=False)
    image.save()  # imagekit generates the renditions on this save
    return image


def pin_image_discard(image: PinImage) -> None:
    """Remove the files of an image whose row never committed."""
    _delete_files(_stored_names(image))


def pin_images_delete_unused(image_ids: set[int]) -> None:
    """After commit: delete images (rows and files) that no pin uses any more.

    Saved pins share their original's image, so an image outlives the pin it was uploaded with
    for as long as any save of it exists.
    """
    if not image_ids:
        return

    def delete_unused() -> None:
        unused = list(PinImage.objects.filter(pk__in=image_ids, pins__isnull=True))
        for image in unused:
            names = _stored_names(image)
            try:
                image.delete()
            except ProtectedError:  # saved again since we looked: it is in use after all
                continue
            _delete_files(names)

    transaction.on_commit(delete_unused)
