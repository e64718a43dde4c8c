"""Uploads judged by their content (core/uploads.py): photos written again by Pillow
(location removed unless kept, the camera's orientation applied, HEIC as JPEG), PDFs
kept, and every bad file refused with a clear message: empty, a renamed executable, an
SVG with a script, a GIF, a damaged photo, a decompression bomb, too many megabytes."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from app.core import uploads
from app.core.errors import ValidationError
from tests.images import jpeg_with_location, png

GPS = 0x8825


def _refused(app, data: bytes, accept=("photo", "pdf")) -> str:
    with app.app_context(), pytest.raises(ValidationError) as caught:
        uploads.inspect(data, "file", accept=accept)
    return caught.value.fields["file"]


def test_a_photo_loses_its_location_keeps_the_rest_and_stands_upright(app, monkeypatch):
    with app.app_context():
        found = uploads.inspect(jpeg_with_location(6, 4, orientation=6), "file")
    assert found.kind == "photo" and found.content_type == "image/jpeg" and found.extension == "jpg"
    image = Image.open(io.BytesIO(found.data))
    exif = image.getexif()
    assert GPS not in exif and exif.get(0x010F) == "Kibray test camera"  # the location only is gone
    assert image.size == (4, 6) and 0x0112 not in exif  # turned as the camera said, once
    monkeypatch.setitem(app.config, "PHOTOS_KEEP_LOCATION", True)
    with app.app_context():
        kept = uploads.inspect(jpeg_with_location(), "file")
    assert GPS in Image.open(io.BytesIO(kept.data)).getexif()


def test_png_and_pdf_are_accepted_as_they_are_meant(app):
    with app.app_context():
        picture = uploads.inspect(png(5, 5), "file")
        document = uploads.inspect(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "file")
    assert picture.content_type == "image/png" and (picture.width, picture.height) == (5, 5)
    assert document.kind == "pdf" and document.data.startswith(b"%PDF-1.7")


def test_a_heic_photo_from_an_iphone_becomes_a_jpeg(app):
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(Image.new("RGB", (8, 6), (10, 200, 10))).save(out, quality=60)
    with app.app_context():
        found = uploads.inspect(out.getvalue(), "file")
    assert found.content_type == "image/jpeg" and Image.open(io.BytesIO(found.data)).size == (8, 6)


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header claiming huge dimensions, with almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_bad_files_are_refused_with_a_clear_message(app, monkeypatch):
    assert _refused(app, b"") == "The file is empty."
    assert "its content decides, not its name" in _refused(app, b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    assert "its content decides" in _refused(
        app, b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    assert "its content decides" in _refused(app, b"GIF89a" + b"\x00" * 32)
    assert "damaged or not really a photo" in _refused(app, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert "megapixels" in _refused(app, _png_bomb(50_000, 50_000))
    assert "Choose a photo (JPEG, PNG, WebP or HEIC):" in _refused(app, b"%PDF-1.4\n", accept=("photo",))
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PHOTO_MB", 1)
    assert _refused(app, png() + b"\x00" * (1024 * 1024)) == "The file is larger than 1 MB."


def test_a_photo_just_past_the_limit_is_refused_before_it_is_decoded(app):
    width = height = 6_400  # 41 megapixels: under Pillow's own guard, over ours
    assert "6,400 × 6,400 pixels" in _refused(app, _png_bomb(width, height))
