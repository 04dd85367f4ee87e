"""What the server checks of a photo's bytes, and its thumbnail (Pillow).

The phone downsizes and re-encodes every photo (which drops its EXIF); the server cannot change the
bytes (they are named by their hash), so it refuses what it will not keep: anything that is not a
JPEG, WebP or PNG image, an image whose declared size is a decompression bomb, one that does not
decode, and one that still carries a location (EXIF GPS).

A desktop browser sends the file as it is on disk, EXIF and all: the console's uploads are first
`normalised` (downsized to 1,920 px and re-encoded without EXIF, as the phone does), before their
bytes are hashed and checked like any other."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from server.errors import FieldError, ValidationFailed

FORMATS = {"JPEG": "image/jpeg", "WEBP": "image/webp", "PNG": "image/png"}
MAX_PIXELS = 40_000_000  # a 1,920 px photo has 2.8 million; a phone's full sensor 12–50 million
THUMB_EDGE = 320
LONG_EDGE = 1920  # what the phone downsizes to, and the console's uploads with it
JPEG_QUALITY = 80
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class Checked:
    content_type: str
    width: int
    height: int


def _refuse(code: str, **params) -> ValidationFailed:
    return ValidationFailed([FieldError("content", code, **params)])


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses it by the size it declares, before decoding: what the phone is told is
        # that it is too large, as for any image above MAX_PIXELS.
        raise _refuse("image_too_large", max=MAX_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _refuse("not_an_image") from None


def check(data: bytes) -> Checked:
    """The image's type and size, once it has decoded whole; a 422 on the field `content` if not."""
    image = _open(data)
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _refuse("image_too_large", max=MAX_PIXELS)
    if image.getexif().get_ifd(_GPS_IFD):
        raise _refuse("image_has_location")
    try:
        image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse("not_an_image") from None
    return Checked(FORMATS[image.format], width, height)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    """The image as a JPEG without metadata (a transparent one on white)."""
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.convert("RGBA").getchannel("A"))
        image = background
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def thumbnail(data: bytes) -> bytes:
    """A JPEG of at most THUMB_EDGE pixels on the long edge (a JPEG is decoded at reduced scale)."""
    image = _open(data)
    image.draft("RGB", (THUMB_EDGE, THUMB_EDGE))
    image.thumbnail((THUMB_EDGE, THUMB_EDGE))
    return _jpeg(image, 75)


def normalised(data: bytes) -> bytes:
    """The photo as the phone would have sent it: one above LONG_EDGE pixels on its long edge, or with
    any EXIF (a location, the camera), is turned upright by its EXIF orientation, downsized and
    re-encoded as a JPEG (JPEG_QUALITY) without EXIF; any other is returned as it is. Refused as
    `check` refuses: not an image, a decompression bomb, too many pixels."""
    image = _open(data)
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _refuse("image_too_large", max=MAX_PIXELS)
    if max(width, height) <= LONG_EDGE and not image.getexif():
        return data
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse("not_an_image") from None
    image.thumbnail((LONG_EDGE, LONG_EDGE))
    return _jpeg(image, JPEG_QUALITY)
