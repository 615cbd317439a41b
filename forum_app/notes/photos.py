"""Rapporteurs' photos: check an uploaded file, make the stored picture, and find it again.

What is stored is never the file that was sent: the bytes are identified by their content (never
the file name or the client's content type), refused unless they are a JPEG, PNG or WebP (HEIC
too when pillow-heif happens to be installed), refused *before any pixel is decoded* when the
header declares more than `domain.PIXELS_MAX` pixels (decompression bombs), then decoded, turned
the way the camera's EXIF orientation says, reduced to `domain.PHOTO_MAX_SIDE` px on the longest
side, converted to sRGB when they carry a colour profile, and written into a brand-new image that
carries no metadata at all: no EXIF (so no GPS position, camera serial or date), no XMP, no IPTC,
no comment and no ICC profile. The result is a progressive JPEG (quality 85), or a PNG when the
picture really has transparency, under `<uploads>/<event_id>/<32 hex>.jpg|png`: a random name
that owes nothing to the client.

`<uploads>` is the `NOTES_UPLOAD_DIR` setting, `<instance>/uploads/notes` by default.
"""
from __future__ import annotations

import os
import re
import secrets
import struct
import warnings
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from forum_app.errors import DomainError, InvalidInput
from forum_app.notes import domain

try:  # colour management is compiled into Pillow's wheels; without it, the profile is simply dropped
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on how Pillow was built
    ImageCms = None

FORMATS = ["JPEG", "PNG", "WEBP"]  # the decoders ever tried on an upload (MPO is a JPEG variant)
try:  # HEIC/HEIF from iPhones, only when the optional decoder is there (it is not a dependency)
    import pillow_heif  # type: ignore[import-not-found]

    pillow_heif.register_heif_opener()
    FORMATS.append("HEIF")
except ImportError:
    pass

# Pillow's own bomb guard, aligned with ours: it warns above this many pixels and refuses above
# twice as many. We refuse above it ourselves, and turn the warning into an error as well.
Image.MAX_IMAGE_PIXELS = domain.PIXELS_MAX

NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")
JPEG_QUALITY = 85

# EXIF orientation -> the transposition that shows the picture upright (as ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

NOT_AN_IMAGE = _l("Ce fichier n'est pas une image (JPEG, PNG ou WebP).")
TOO_HEAVY = _l("Image trop lourde : %(mb)s Mo au plus.", mb=domain.UPLOAD_MAX_BYTES // (1024 * 1024))
TOO_BIG = _l("Image trop grande : %(mp)s mégapixels au plus.", mp=domain.PIXELS_MAX // 1_000_000)
NO_FILE = _l("Aucun fichier reçu : choisissez une photo.")


class TooLarge(DomainError):
    """An upload over `domain.UPLOAD_MAX_BYTES`."""

    status_code = 413
    code = "too_large"


def too_large() -> TooLarge:
    return TooLarge(str(TOO_HEAVY), field="file")


def _refuse(message) -> InvalidInput:
    return InvalidInput(str(message), field="file")


# --------------------------------------------------------------------------- where files live


def upload_root() -> Path:
    configured = current_app.config.get("NOTES_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "notes"


def valid_name(name: object) -> bool:
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def path_of(event_id: int, name: str) -> Path | None:
    """The stored file of photo `name` at this event, or None for a name we never make."""
    if not valid_name(name):
        return None
    return upload_root() / str(int(event_id)) / name


def delete(event_id: int, name: str) -> None:
    path = path_of(event_id, name)
    if path is not None:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- making the stored picture


def read_upload(stream: BinaryIO) -> bytes:
    """At most UPLOAD_MAX_BYTES of the upload (TooLarge when there is more)."""
    data = stream.read(domain.UPLOAD_MAX_BYTES + 1)
    if len(data) > domain.UPLOAD_MAX_BYTES:
        raise too_large()
    if not data:
        raise _refuse(NO_FILE)
    return data


def _open(data: bytes) -> Image.Image:
    """The image's header only (no pixel decoded yet), refused unless it is one of FORMATS and
    declares at most PIXELS_MAX pixels."""
    # warnings.catch_warnings is process-wide, not per thread: under a threaded server another
    # request may briefly see the filter. Our own size check below does not depend on it.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(TOO_BIG) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _refuse(NOT_AN_IMAGE) from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _refuse(NOT_AN_IMAGE)
    if width * height > domain.PIXELS_MAX:
        raise _refuse(TOO_BIG)
    return image


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except (SyntaxError, ValueError, OSError, KeyError, IndexError, TypeError, struct.error):  # broken EXIF: as stored
        return 1
    return value if isinstance(value, int) else 1


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Colours as the profile means them, in sRGB, so the profile can go (e.g. iPhones' Display P3)."""
    if not icc or ImageCms is None or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the values as they are


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode in ("P", "L", "RGB") and "transparency" in image.info)


def process(data: bytes) -> tuple[Image.Image, str]:
    """The picture to store, made from the uploaded bytes, and its format ("JPEG" or "PNG").

    The returned image is a new one holding only pixels (its `info` is empty)."""
    image = _open(data)
    orientation = _orientation(image)
    icc = image.info.get("icc_profile")
    size = domain.photo_size(*image.size)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", size)  # libjpeg decodes straight at 1/2, 1/4 or 1/8 when it can
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(TOO_BIG) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(NOT_AN_IMAGE) from None

    transparent = _has_alpha(image)
    if image.mode.startswith("I"):  # 16-bit greyscale PNGs: scale to 8 bits rather than clip to white
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if image.mode not in ("RGB", "RGBA", "L", "CMYK") or (transparent and image.mode != "RGBA"):
        # palette, 1-bit, LA, a transparent colour...: to a mode resampling suits
        image = image.convert("RGBA" if transparent else ("L" if image.mode == "1" else "RGB"))
    if image.size != size:  # smaller first: every step after works on at most 1600 x 1600 pixels
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    image = _to_srgb(image, icc)
    image = image.convert("RGBA" if transparent else "RGB")
    if transparent and image.getchannel("A").getextrema()[0] == 255:
        image, transparent = image.convert("RGB"), False  # an alpha channel nobody uses: a JPEG will do
    if orientation in _ORIENTATION:
        image = image.transpose(_ORIENTATION[orientation])

    clean = Image.new(image.mode, image.size)  # a new image: no info, no EXIF, no XMP, no profile
    clean.paste(image)
    return clean, "PNG" if transparent else "JPEG"


def encode(image: Image.Image, fmt: str) -> bytes:
    out = BytesIO()
    if fmt == "PNG":
        image.save(out, "PNG", optimize=False, compress_level=6)
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def store(event_id: int, stream: BinaryIO) -> dict:
    """Check and store an uploaded photo for this event: {file, width, height}.

    Raises TooLarge (413) or InvalidInput (422, field "file") with a message for the rapporteur."""
    data = read_upload(stream)
    image, fmt = process(data)
    body = encode(image, fmt)
    name = f"{secrets.token_hex(16)}.{'png' if fmt == 'PNG' else 'jpg'}"
    folder = upload_root() / str(int(event_id))
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}.part"
    with open(temporary, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, folder / name)
    return {"file": name, "width": image.width, "height": image.height}

