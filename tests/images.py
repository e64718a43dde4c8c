"""Real images for upload tests (made with Pillow, as a camera would send them)."""

from __future__ import annotations

import io


def png(width: int = 4, height: int = 3, color=(200, 120, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_location(width: int = 6, height: int = 4, orientation: int = 1) -> bytes:
    """A JPEG whose EXIF says where it was taken (GPS) and which way is up."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (40, 90, 160))
    exif = image.getexif()
    exif[0x010F] = "Kibray test camera"  # Make
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (39.0, 44.0, 0.0), 3: "W", 4: (104.0, 59.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()
