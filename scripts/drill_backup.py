"""Drill: backups and restore (issue 14). scripts/backup.sh backs up a drill database with
data to a directory (retention checked) and to S3 (moto); scripts/restore.sh restores the
S3 copy into a fresh database (and refuses a non-empty one without --force); the app
started on the restored database serves the same data as the original: row counts of
every table, the API's project list and a project, and the project pages compared.

    .venv/bin/python scripts/drill_backup.py      (or: make drills)"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import drill_common as d
from drill_common import check, proved


def sh(script: str, args: list[str], env: dict, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603
        ["bash", str(d.ROOT / "scripts" / script), *args],  # noqa: S607
        cwd=d.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if ok and done.returncode:
        raise d.DrillFailed(f"{script} {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    return done


def project_names(html: str) -> list[str]:
    return sorted(set(re.findall(r'href="/projects/(\d+)"[^>]*>\s*([^<]+?)\s*<', html)))


def main() -> None:
    with d.services() as (redis_server, moto):
        source = d.copy_database("backup_src", redis_server.url)
        restored = d.db_url("backup_restored")
        d.drop_database(restored)
        env = d.app_env(source, redis_server.url, moto.url, BACKUP_KEEP="2")
        folder = Path(tempfile.mkdtemp(prefix="kibray-drill-backups-"))
        original = d.Instance("backup-original", d.FIRST_PORT, env)
        copy = d.Instance(
            "backup-restored",
            d.FIRST_PORT + 1,
            d.app_env(restored, redis_server.url, moto.url, REDIS_KEY_PREFIX="kibray-drill-restored"),
        )
        try:
            original.start(wait=False)
            outputs = [sh("backup.sh", [str(folder)], env).stdout for _ in range(3)]
            kept = sorted(p.name for p in folder.glob("kibray-*.dump"))
            newest = outputs[-1].split("stored: ", 1)[1].split()[0]
            check(len(kept) == 2, f"BACKUP_KEEP=2 kept {kept}")
            check(Path(newest).name in kept, "retention deleted the newest backup")
            proved(
                f"backup.sh to a directory, three times with BACKUP_KEEP=2: the 2 newest kept ({outputs[-1].splitlines()[-1]})"
            )

            done = sh("backup.sh", [f"s3://{d.BUCKET}/backups"], env)
            key = done.stdout.split("stored: ", 1)[1].split()[0]
            listed = [o["Key"] for o in moto.s3().list_objects_v2(Bucket=d.BUCKET, Prefix="backups/")["Contents"]]
            check(key.removeprefix(f"s3://{d.BUCKET}/") in listed, f"{key} is not in the bucket ({listed})")
            proved(f"backup.sh to S3 through the app's storage settings: {key}")

            began = time.monotonic()
            done = sh("restore.sh", [key, restored], env)
            restore_seconds = time.monotonic() - began
            refused = sh("restore.sh", [key, restored], env, ok=False)
            check(refused.returncode == 3 and "refusing" in refused.stderr, "restore.sh overwrote a non-empty database")
            proved(
                f"restore.sh from S3 into a new database in {restore_seconds:.1f} s; run again, it refuses the non-empty target"
            )

            before, after = d.table_counts(source), d.table_counts(restored)
            check(
                before == after,
                f"row counts differ: { {t: (before.get(t), after.get(t)) for t in before if before.get(t) != after.get(t)} }",
            )
            proved(f"row counts of all {len(before)} tables identical ({sum(before.values())} rows)")

            copy.start(wait=False)
            original.wait_healthy()
            copy.wait_healthy()
            project_id = d.sql(source, "SELECT min(id) FROM projects")[0][0]
            compared = []
            apis, browsers = [], []
            for instance in (original, copy):  # one sign-in each (argon2 at production cost)
                api = d.Client()
                api.headers["Authorization"] = f"Bearer {d.api_token(instance.base)}"
                apis.append(api)
                browsers.append(d.sign_in(instance.base))
            for path in ("/api/projects/", f"/api/projects/{project_id}/", "/api/clients/"):
                answers = []
                for instance, api in zip((original, copy), apis, strict=True):
                    answer = api.get(instance.base + path, timeout=15)
                    check(answer.status_code == 200, f"{instance.name} answered {answer.status_code} to {path}")
                    answers.append(answer.json()["data"])
                check(answers[0] == answers[1], f"{path} differs between the original and the restored database")
                compared.append(path)
            for path in ("/projects", f"/projects/{project_id}"):
                pages = []
                for instance, browser in zip((original, copy), browsers, strict=True):
                    answer = browser.get(instance.base + path, timeout=15)
                    check(answer.status_code == 200, f"{instance.name} answered {answer.status_code} to {path}")
                    pages.append(answer.text)
                check(path != "/projects" or project_names(pages[0]), "no project found on /projects")
                check(project_names(pages[0]) == project_names(pages[1]), f"{path} lists other projects when restored")
                title = re.search(r"<title>(.*?)</title>", pages[0], re.S)
                check(title and title.group(1) in pages[1], f"{path}'s title differs when restored")
                compared.append(path)
            proved(f"the app on the restored database serves the same data: {', '.join(compared)}")
        finally:
            original.close()
            copy.close()
            d.drop_database(source)
            d.drop_database(restored)
            for path in folder.glob("*"):
                path.unlink()
            folder.rmdir()


if __name__ == "__main__":
    d.run_drill("drill_backup", main)
