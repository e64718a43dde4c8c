"""Uploaded files judged by their content, never by their name or the browser's word:
photos (JPEG, PNG, WebP, and HEIC from iPhones) and PDF documents, each under its size
limit (settings). A photo is decoded and written again with Pillow — which is what
makes an image safe to show: nothing but pixels survive, a file that only claims to be
one is refused, a decompression bomb (huge dimensions in a tiny file) is refused before
it is decoded, and the EXIF location is removed unless the company keeps it
(PHOTOS_KEEP_LOCATION). The orientation the camera recorded is applied first, so the
photo still stands the right way up. HEIC becomes JPEG. PDFs are kept as they are.

Everything else (SVG with its scripts, an executable renamed `invoice.pdf`, a GIF, an
empty file) is a field error naming what is accepted."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import current_app

from app.core.errors import ValidationError

MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is ~48M: decoded, ~150 MB of memory
PHOTO_TYPES = "JPEG, PNG, WebP or HEIC"
_SAVE = {  # Pillow format → (format to write, content type, extension)
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
    "HEIF": ("JPEG", "image/jpeg", "jpg"),
}
_GPS_IFD = 0x8825


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str
    extension: str
    kind: str  # "photo", "pdf" or "office"
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> str | None:
    """What the content is — "JPEG", "PNG", "WEBP", "HEIF", "PDF" — or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "HEIF"
    if data.startswith(b"%PDF-"):
        return "PDF"
    if data.startswith(b"PK\x03\x04"):
        return "ZIP"  # perhaps an Office document (`office`): its parts decide
    return None


def limit_for(kind: str) -> int:
    """The largest upload of `kind` ("photo", "pdf" or "office") accepted, in bytes
    (settings; Office documents share the PDF limit: both are documents)."""
    megabytes = current_app.config.get("UPLOAD_MAX_PHOTO_MB" if kind == "photo" else "UPLOAD_MAX_PDF_MB", 20)
    return int(megabytes) * 1024 * 1024


def inspect(data: bytes, field: str = "file", accept: tuple[str, ...] = ("photo", "pdf")) -> Upload:
    """`data` as it will be stored, or a ValidationError on `field` saying why not."""
    wanted = " or ".join(_WANTED[kind] for kind in accept)
    if not data:
        raise ValidationError({field: "The file is empty."})
    found = sniff(data)
    kind = "pdf" if found == "PDF" else "office" if found == "ZIP" else "photo" if found else None
    if kind is None or kind not in accept:
        raise ValidationError({field: f"Choose {wanted}: this file is not one (its content decides, not its name)."})
    if len(data) > limit_for(kind):
        raise ValidationError({field: f"The file is larger than {limit_for(kind) // (1024 * 1024)} MB."})
    if kind == "pdf":
        return Upload(data, "application/pdf", "pdf", "pdf")
    if kind == "office":
        return _office(data, field, wanted)
    return _photo(data, found, field)


_WANTED = {
    "photo": f"a photo ({PHOTO_TYPES})",
    "pdf": "a PDF document",
    "office": "a Word, Excel or PowerPoint document (.docx, .xlsx, .pptx)",
}
# An Office Open XML document is a ZIP whose parts name it: [Content_Types].xml and the
# folder of its application. Kept as it is (like a PDF); macro-enabled ones (a
# vbaProject.bin part: .docm, .xlsm) and any other ZIP are refused.
_OFFICE = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
}
MAX_OFFICE_PARTS = 5000


def _office(data: bytes, field: str, wanted: str) -> Upload:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # only its directory is read
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError({field: "The document cannot be read: it is damaged."}) from None
    if "[Content_Types].xml" not in names or len(names) > MAX_OFFICE_PARTS:
        raise ValidationError({field: f"Choose {wanted}: this file is not one (its content decides, not its name)."})
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise ValidationError({field: "Documents with macros are not accepted: save it without them (.docx, .xlsx)."})
    for folder, (content_type, extension) in _OFFICE.items():
        if any(name.startswith(folder) for name in names):
            return Upload(data, content_type, extension, "office")
    raise ValidationError({field: f"Choose {wanted}: this file is not one (its content decides, not its name)."})


def largest_upload() -> int:
    """The largest file any upload accepts (the biggest of the per-kind limits)."""
    return max(limit_for("photo"), limit_for("pdf"))


def accepts_uploads(files: int = 1):
    """Route decorator: this endpoint's requests may carry `files` files of up to the
    largest limit each (not just the MAX_REQUEST_BYTES every other request gets). The
    limit is raised before any hook reads the body (`raise_upload_limit`)."""

    def mark(view):
        view.upload_files = files
        return view

    return mark


def raise_upload_limit(endpoint, _values) -> None:
    """url_value_preprocessor (core/hooks.py): runs before the before_request hooks — CSRF
    protection among them, which parses the form — so the raised limit applies."""
    from flask import request

    view = current_app.view_functions.get(endpoint) if endpoint else None
    files = getattr(view, "upload_files", 0)
    if files:
        request.max_content_length = largest_upload() * files + 1024 * 1024
        request.max_form_memory_size = request.max_content_length


THUMB_SIDE = 320  # a gallery's or a task page's tile
WEB_SIDE = 1600  # a phone's or a laptop's full view


def resized(data: bytes, longest: int) -> bytes:
    """A JPEG copy of an (already inspected) photo, its longest side at most `longest`."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((longest, longest))
        copy = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        out = io.BytesIO()
        copy.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


def _photo(data: bytes, found: str, field: str) -> Upload:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if found == "HEIF":
        try:
            from pillow_heif import register_heif_opener
        except ImportError:  # pragma: no cover - installed with the app (requirements.txt)
            raise ValidationError({field: "HEIC photos cannot be read here: send a JPEG."}) from None
        register_heif_opener()
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    {
                        field: f"The photo is {width:,} × {height:,} pixels: more than {MAX_PIXELS // 1_000_000} megapixels."
                    }
                )
            image.load()
            exif = image.getexif()
            upright = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, far past ours, at open
        raise ValidationError({field: f"The photo has more than {MAX_PIXELS // 1_000_000} megapixels."}) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError({field: "The photo cannot be read: it is damaged or not really a photo."}) from None
    target, content_type, extension = _SAVE[found]
    keep = bool(current_app.config.get("PHOTOS_KEEP_LOCATION"))
    for tag in (0x0112,) + (() if keep else (_GPS_IFD,)):  # orientation applied; location gone
        exif.pop(tag, None)
    if target == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    options = {"exif": exif.tobytes()} if len(exif) else {}
    if target == "JPEG":
        options |= {"quality": 88, "optimize": True}
    upright.save(out, target, **options)
    return Upload(out.getvalue(), content_type, extension, "photo", upright.width, upright.height)
