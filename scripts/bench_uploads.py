"""`make bench-uploads`: the photo upload path's throughput (issue 9).

Against the real stack (gunicorn with gevent workers, the bench database, local-disk
media in a scratch folder): a PM sends N phone-sized JPEGs (4032 × 3024, ~3–4 MB each)
through `POST /api/photos/`, one after another and then four at a time, and the report
gives MB/s and photos per minute for each; then the thumbnail job
(workers.media.make_photo_sizes, the RQ worker's function) makes the thumbnail and web
copy of each, timed in one worker process: photos per minute through it.

    .venv/bin/python scripts/bench_uploads.py [--photos 12]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import bench_common as bc


def phone_photo(seed: int) -> bytes:
    """A 12-megapixel JPEG with a camera's noise (compresses like a real photo)."""
    from PIL import Image

    rng = random.Random(seed)  # noqa: S311 - test data
    small = Image.frombytes("RGB", (504, 378), bytes(rng.randrange(256) for _ in range(504 * 378 * 3)))
    out = io.BytesIO()
    small.resize((4032, 3024)).save(out, "JPEG", quality=92)
    return out.getvalue()


def upload(base: str, token: str, project_id: int, data: bytes, n: int) -> tuple[float, int]:
    import requests

    started = time.perf_counter()
    answer = requests.post(
        f"{base}/api/photos/",
        headers={"Authorization": f"Bearer {token}"},
        data={"project_id": str(project_id), "caption": f"Bench {n}"},
        files={"file": (f"IMG_{n:04d}.jpg", data, "image/jpeg")},
        timeout=120,
    )
    if answer.status_code != 201:
        raise SystemExit(f"upload failed: HTTP {answer.status_code} {answer.text[:300]}")
    return time.perf_counter() - started, answer.json()["data"]["id"]


JOB = """
import json, sys, time
from workers.base import job_app
from workers.media import make_photo_sizes
ids = json.loads(sys.argv[1])
with job_app().app_context():
    started = time.perf_counter()
    done = sum(1 for i in ids if make_photo_sizes(i))
    print(json.dumps({"made": done, "seconds": time.perf_counter() - started}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    args = parser.parse_args()
    if not bc.database_seeded():
        print("Seeding the bench database first …")
        bc.prepare_database()
    else:
        bc.run([str(bc.BIN / "flask"), "db", "upgrade"], bc.app_env())
    with bc._db_connection() as c:
        project_id = c.execute("SELECT id FROM projects WHERE name = %s", ("Hughes interior repaint",)).fetchone()[0]
    photos = [phone_photo(n) for n in range(args.photos)]
    megabytes = sum(len(p) for p in photos) / 1_000_000
    with tempfile.TemporaryDirectory(prefix="kibray-bench-media-") as media:
        env = {"MEDIA_ROOT": media, "AWS_STORAGE_BUCKET_NAME": ""}
        with bc.Gunicorn(2, "bench-uploads", **env) as server:
            token = bc.api_token(server.base, "pm")
            upload(server.base, token, project_id, photos[0], 0)  # warm: first request's imports
            started = time.perf_counter()
            ids = [upload(server.base, token, project_id, data, n)[1] for n, data in enumerate(photos)]
            serial = time.perf_counter() - started
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                ids += [
                    i
                    for _, i in pool.map(
                        lambda item: upload(server.base, token, project_id, item[1], item[0]), enumerate(photos)
                    )
                ]
            parallel = time.perf_counter() - started
        job_env = bc.app_env(**env)
        answer = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", JOB, json.dumps(ids[: args.photos])],
            env=job_env,
            cwd=bc.ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        job = json.loads(answer.stdout.strip().splitlines()[-1])
    with bc._db_connection() as c:  # the rows name files of the scratch folder, now gone
        c.execute("DELETE FROM photos WHERE caption LIKE 'Bench %%' AND storage_key LIKE 'photos/%%'")
        c.commit()
    result = {
        "photos": args.photos,
        "average_mb": round(megabytes / args.photos, 2),
        "one_at_a_time": {
            "mb_per_s": round(megabytes / serial, 1),
            "photos_per_minute": round(60 * args.photos / serial),
        },
        "four_at_a_time": {
            "mb_per_s": round(megabytes / parallel, 1),
            "photos_per_minute": round(60 * args.photos / parallel),
        },
        "thumbnail_job": {
            "made": job["made"],
            "photos_per_minute": round(60 * job["made"] / job["seconds"]) if job["seconds"] else None,
        },
        "machine": bc.machine(),
    }
    print(json.dumps(result, indent=2))
    bc.write_results("bench-uploads", result)
    return 0


if __name__ == "__main__":
    os.chdir(bc.ROOT)
    sys.exit(main())
