"""gunicorn settings. gevent workers hold many open SSE streams without starving other
requests (measured in docs/performance.md); GUNICORN_WORKERS / GUNICORN_THREADS / PORT."""

import gc
import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = 120
graceful_timeout = 30
keepalive = 5
# Logs are JSON lines on stdout (app/core/logs.py). gunicorn's access log is off: the app
# writes one line per request itself (with its request id, user, SQL count), so a request
# is never two lines; gunicorn's own messages go through the same JSON formatter.
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "handlers": {"json": {"()": "app.core.logs.stdout_handler"}},
    "formatters": {},
}
# No proxy is trusted unless named (docs/deployment.md says what the platform needs).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
# gunicorn's control socket (gunicornc) defaults to one path per machine user: a second
# instance on the same machine would take over the first's. GUNICORN_CONTROL_SOCKET names
# this instance's own path, or "off" for none (the drills start two instances side by side).
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control.lower() in ("off", "none", "0"):
    control_socket_disable = True
elif _control:
    control_socket = _control

# Load the app once, in the master, and fork the workers from it: a worker is serving as
# soon as it is forked (cold start), and the code and start-up objects are shared
# copy-on-write between workers. Under gevent the master patches the standard library
# first, exactly as each worker would before loading the app; post_fork then gives every
# worker fresh database and Redis pools, so no connection is ever shared across processes.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") not in ("0", "false", "no")
IN_MASTER = "gunicorn.arbiter" in sys.modules  # a script or test merely reading this file changes nothing

# Prometheus metrics in multiprocess mode (app/core/metrics.py): every worker writes its
# figures to files in this directory and /metrics adds them up. Set before the app (and
# prometheus_client) is imported and before any worker forks; a fresh directory per
# master unless the environment names one (then it must be this instance's alone, and
# empty at start). The directory this master made is named in KIBRAY_OWN_METRICS_DIR: a
# reload (SIGHUP) reads this file again in the same master, where a module variable
# would start over empty, and on_exit would no longer remove it.


def _fresh_metrics_dir() -> str:
    """A new directory named after this master; those of masters that died without their
    on_exit (SIGKILL) are removed."""
    import glob
    import shutil
    import tempfile

    for stale in glob.glob(os.path.join(tempfile.gettempdir(), "kibray-metrics-*-*")):
        pid = os.path.basename(stale).split("-")[2]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except (ValueError, PermissionError):
            pass  # not ours to judge
    return tempfile.mkdtemp(prefix=f"kibray-metrics-{os.getpid()}-")


if IN_MASTER and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["KIBRAY_OWN_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"] = _fresh_metrics_dir()


def _patch_gevent() -> None:
    """monkey.patch_all(), with gevent's plugin look-up done once: patch_all announces each
    of its ~25 steps to the plugins named in the installed packages' entry points, and
    reads every package's metadata again for each (about 0.2 s of a cold start). The same
    plugins are called, from one reading."""
    from importlib import metadata

    from gevent import events, monkey

    original = getattr(events, "notify_and_call_entry_points", None)
    if original is None:  # another gevent: patch as it would
        monkey.patch_all()
        return
    installed = metadata.entry_points()

    def notify_and_call_entry_points(event):
        events.notify(event)
        for plugin in installed.select(group=event.ENTRY_POINT_NAME):
            plugin.load()(event)

    events.notify_and_call_entry_points = notify_and_call_entry_points
    try:
        monkey.patch_all()
    finally:
        events.notify_and_call_entry_points = original


if IN_MASTER and preload_app:
    # No garbage collection while the app is imported: start-up makes almost no garbage
    # (~800 unreachable objects), yet the collector would run a dozen full passes over
    # the growing heap (~0.35 s of ~1 s). when_ready turns it back on.
    gc.disable()
    if worker_class == "gevent":
        _patch_gevent()


def when_ready(server):
    """In the master, the app loaded, before any worker is forked: what start-up built is
    moved out of the collector's view (no worker's collection ever walks it, nor writes
    to its pages and unshares them), and the collector is on again."""
    gc.freeze()
    gc.enable()


def post_fork(server, worker):
    if not preload_app:
        gc.disable()  # the worker imports the app next (see when_ready); post_worker_init enables it
        return
    wsgi = sys.modules.get("wsgi")
    if wsgi is None:  # another app (the bench's floor page): nothing of ours to reset
        return
    from app.extensions import db

    with wsgi.app.app_context():
        db.engine.dispose(close=False)  # the master's pool (if it ever connected) is not ours
    wsgi.app.extensions["kibray_redis"].connection_pool.reset()


def post_worker_init(worker):
    """The worker has its app (preloaded, or loaded now): freeze what start-up built and
    turn the collector (back) on, so full collections walk only request garbage (measured
    in docs/performance.md). No collection first: start-up leaves almost no garbage."""
    gc.freeze()
    gc.enable()


def child_exit(server, worker):
    """A worker is gone: its live gauges (the open SSE streams) stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The master stops: the metrics directory it made goes with it."""
    own = os.environ.get("KIBRAY_OWN_METRICS_DIR")
    # this master's (named after its pid: a master started by USR2 inherits the variable)
    if own and os.path.basename(own).startswith(f"kibray-metrics-{os.getpid()}-"):
        import shutil

        shutil.rmtree(own, ignore_errors=True)
