"""Media storage: S3 (or an S3-compatible server) when AWS_STORAGE_BUCKET_NAME is set,
else a folder on local disk (embedded mode only — production requires S3)."""

from __future__ import annotations

import logging
import os
import uuid

from flask import current_app

log = logging.getLogger(__name__)


def _s3():
    import boto3

    cfg = current_app.config
    return boto3.client(
        "s3",
        aws_access_key_id=cfg["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=cfg["AWS_SECRET_ACCESS_KEY"],
        region_name=cfg["AWS_S3_REGION_NAME"],
        endpoint_url=cfg.get("AWS_S3_ENDPOINT_URL"),
    )


def save(key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
    cfg = current_app.config
    if cfg.get("AWS_STORAGE_BUCKET_NAME"):
        _s3().put_object(Bucket=cfg["AWS_STORAGE_BUCKET_NAME"], Key=key, Body=data, ContentType=content_type)
    else:
        path = os.path.join(cfg["MEDIA_ROOT"], key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    return key


def read(key: str) -> bytes:
    """The object's bytes (for an authorising download route; never a public URL)."""
    cfg = current_app.config
    if cfg.get("AWS_STORAGE_BUCKET_NAME"):
        return _s3().get_object(Bucket=cfg["AWS_STORAGE_BUCKET_NAME"], Key=key)["Body"].read()
    with open(os.path.join(cfg["MEDIA_ROOT"], key), "rb") as handle:
        return handle.read()


def delete(key: str) -> None:
    cfg = current_app.config
    if cfg.get("AWS_STORAGE_BUCKET_NAME"):
        _s3().delete_object(Bucket=cfg["AWS_STORAGE_BUCKET_NAME"], Key=key)
    else:
        try:
            os.remove(os.path.join(cfg["MEDIA_ROOT"], key))
        except FileNotFoundError:
            pass


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
