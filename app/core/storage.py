"""Media storage: S3 (or an S3-compatible server, `AWS_S3_ENDPOINT_URL`) when
AWS_STORAGE_BUCKET_NAME is set, else a folder on local disk (embedded mode only —
production requires S3).

Objects are private. Nobody gets a lasting or guessable address: a download goes through
a route that checks the reader's permission first and then either streams the object
(local disk) or answers a redirect to a presigned URL valid for MEDIA_URL_SECONDS (S3), so
a large file never holds a web worker. Keys are random (`new_key`), never the uploader's
file name, which is kept only for the download's Content-Disposition (`disposition`)."""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import uuid
from urllib.parse import quote

from flask import current_app

log = logging.getLogger(__name__)


def _s3():
    import boto3
    from botocore.config import Config

    cfg = current_app.config
    return boto3.client(
        "s3",
        aws_access_key_id=cfg["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=cfg["AWS_SECRET_ACCESS_KEY"],
        region_name=cfg["AWS_S3_REGION_NAME"],
        endpoint_url=cfg.get("AWS_S3_ENDPOINT_URL"),
        config=Config(signature_version="s3v4"),  # presigned URLs as S3 requires them now
    )


def on_s3() -> bool:
    return bool(current_app.config.get("AWS_STORAGE_BUCKET_NAME"))


def new_key(prefix: str, extension: str) -> str:
    """A random key under `prefix` ("tasks/12"), with the type's extension."""
    extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:8] or "bin"
    return f"{prefix.strip('/')}/{uuid.uuid4().hex}.{extension}"


def _path(key: str) -> str:
    root = os.path.realpath(current_app.config["MEDIA_ROOT"])
    path = os.path.realpath(os.path.join(root, key))
    if not path.startswith(root + os.sep):  # a key is ours (new_key), but never trust a path
        raise ValueError("A storage key must stay inside the media folder.")
    return path


def save(key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
    if on_s3():
        _s3().put_object(
            Bucket=current_app.config["AWS_STORAGE_BUCKET_NAME"], Key=key, Body=data, ContentType=content_type
        )
    else:
        path = _path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    return key


def read(key: str) -> bytes:
    """The object's bytes (local disk; on S3 a download is a presigned URL, `download_url`)."""
    if on_s3():
        return _s3().get_object(Bucket=current_app.config["AWS_STORAGE_BUCKET_NAME"], Key=key)["Body"].read()
    with open(_path(key), "rb") as handle:
        return handle.read()


def exists(key: str) -> bool:
    if on_s3():
        from botocore.exceptions import ClientError

        try:
            _s3().head_object(Bucket=current_app.config["AWS_STORAGE_BUCKET_NAME"], Key=key)
            return True
        except ClientError:
            return False
    return os.path.exists(_path(key))


def delete(key: str) -> None:
    if on_s3():
        _s3().delete_object(Bucket=current_app.config["AWS_STORAGE_BUCKET_NAME"], Key=key)
    else:
        try:
            os.remove(_path(key))
        except FileNotFoundError:
            pass


def safe_filename(name: str, fallback: str = "file") -> str:
    """The last part of an uploaded file's name, without directories (`../`, `C:\\`),
    control characters or quotes, at most 120 characters: fit for a Content-Disposition."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>|*?:')
    name = name.strip(" .")
    return name[:120] or fallback


def disposition(filename: str, inline: bool) -> str:
    """Content-Disposition for `filename`: an ASCII fallback and the exact name (RFC 6266)."""
    name = safe_filename(filename)
    ascii_name = name.encode("ascii", "ignore").decode() or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def download_url(key: str, filename: str, content_type: str, inline: bool) -> str | None:
    """On S3: a presigned GET of the object, valid for MEDIA_URL_SECONDS, answering with
    this type and file name. None on local disk (the route streams the object). Call it
    only after the reader's permission was checked."""
    if not on_s3():
        return None
    cfg = current_app.config
    return _s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": cfg["AWS_STORAGE_BUCKET_NAME"],
            "Key": key,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition(filename, inline),
        },
        ExpiresIn=int(cfg.get("MEDIA_URL_SECONDS", 300)),
    )


INCOMING = "incoming"  # where browsers put direct uploads until the server has judged them


def presigned_post(prefix: str, max_bytes: int) -> dict:
    """On S3: a presigned POST letting a browser put one object of at most `max_bytes`
    straight into the bucket under a fresh random key below `incoming/<prefix>/`, valid
    for MEDIA_URL_SECONDS — so a 20 MB photo never holds a web worker. The object is
    not trusted: the server reads it back, judges it (core.uploads) and deletes it
    (`take_incoming`). Returns {"url", "fields", "key"}; call only after the permission
    check. (A bucket lifecycle rule on `incoming/` removes what browsers abandon.)"""
    cfg = current_app.config
    key = new_key(f"{INCOMING}/{prefix}", "bin")
    post = _s3().generate_presigned_post(
        Bucket=cfg["AWS_STORAGE_BUCKET_NAME"],
        Key=key,
        Conditions=[["content-length-range", 1, int(max_bytes)]],
        ExpiresIn=int(cfg.get("MEDIA_URL_SECONDS", 300)),
    )
    return {"url": post["url"], "fields": post["fields"], "key": key}


def media_origins() -> str:
    """The origins a browser reaches the bucket at on S3 — where a direct upload
    (`presigned_post`) goes and where a presigned download URL points, e.g.
    `https://media.s3.amazonaws.com` —, space-separated, for the pages' content security
    policy; "" on local disk. Computed once per storage setting (signing needs no request
    to S3)."""
    cfg = current_app.config
    if not on_s3():
        return ""
    setting = tuple(
        cfg.get(name) or ""
        for name in ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_REGION_NAME", "AWS_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID")
    )
    known = current_app.extensions.setdefault("kibray_media_origins", {})
    if setting not in known:
        from urllib.parse import urlsplit

        try:
            s3, key = _s3(), f"{INCOMING}/origin"
            urls = [
                s3.generate_presigned_post(Bucket=setting[0], Key=key, ExpiresIn=60)["url"],
                s3.generate_presigned_url("get_object", Params={"Bucket": setting[0], "Key": key}, ExpiresIn=60),
            ]
            origins = dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, urls))
            known[setting] = " ".join(origins)
        except Exception:  # no credentials: the upload itself will say so
            log.exception("storage: the bucket's address could not be computed")
            known[setting] = ""
    return known[setting]


def is_incoming(key: str, prefix: str) -> bool:
    """Is `key` one `presigned_post(prefix, …)` could have issued? (A browser names the
    key it used; it must not be able to name any other object.)"""
    return bool(re.fullmatch(rf"{INCOMING}/{re.escape(prefix.strip('/'))}/[0-9a-f]{{32}}\.bin", key or ""))


def take_incoming(key: str, max_bytes: int) -> bytes | None:
    """The bytes a browser uploaded under `key`, and the object deleted; None if there is
    none or it is larger than `max_bytes` (then it is deleted too)."""
    cfg = current_app.config
    s3 = _s3()
    try:
        head = s3.head_object(Bucket=cfg["AWS_STORAGE_BUCKET_NAME"], Key=key)
    except Exception:  # noqa: BLE001 - missing or unreadable: nothing was uploaded
        return None
    try:
        if int(head.get("ContentLength", 0)) > max_bytes:
            return None
        return s3.get_object(Bucket=cfg["AWS_STORAGE_BUCKET_NAME"], Key=key)["Body"].read()
    finally:
        delete(key)


def send(key: str, filename: str, content_type: str, inline: bool):
    """The response handing out an object to a reader whose permission was checked: a
    redirect to a short-lived presigned URL on S3, the bytes themselves on local disk."""
    from flask import Response, redirect

    url = download_url(key, filename, content_type, inline)
    if url is not None:
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "private, no-store"
        return response
    response = Response(read(key), mimetype=content_type)
    response.headers["Content-Disposition"] = disposition(filename, inline)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def writable() -> bool:
    """Write, then delete, a small probe object: the health check's 'storage'."""
    key = f"health/{uuid.uuid4().hex}.txt"
    try:
        save(key, b"ok", "text/plain")
        delete(key)
        return True
    except Exception:
        log.exception("health: media storage is not writable")
        return False
