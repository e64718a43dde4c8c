"""gunicorn settings. gevent workers hold many open SSE streams without starving other
requests (measured in docs/performance.md); GUNICORN_WORKERS / GUNICORN_THREADS / PORT."""

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
accesslog = "-"
errorlog = "-"
access_log_format = 'ts=%(t)s level=INFO logger=access method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s ms=%(M)s rid=%({x-request-id}o)s'
# No proxy is trusted unless named (docs/deployment.md says what the platform needs).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# Load the app once, in the master, and fork the workers from it: a worker is serving as
# soon as it is forked (cold start), and the code and start-up objects are shared
# copy-on-write between workers. Under gevent the master patches the standard library
# first, exactly as each worker would before loading the app; post_fork then gives every
# worker fresh database and Redis pools, so no connection is ever shared across processes.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") not in ("0", "false", "no")
if preload_app and worker_class == "gevent" and "gunicorn.arbiter" in sys.modules:
    # only in gunicorn's own master (a script or test merely reading this file stays unpatched)
    from gevent import monkey

    monkey.patch_all()


def post_fork(server, worker):
    if not preload_app:
        return
    import wsgi
    from app.extensions import db

    with wsgi.app.app_context():
        db.engine.dispose(close=False)  # the master's pool (if it ever connected) is not ours
    wsgi.app.extensions["kibray_redis"].connection_pool.reset()


def post_worker_init(worker):
    """Move the objects built at start-up out of the garbage collector's view: a full
    collection then walks only request garbage (measured in docs/performance.md)."""
    import gc

    gc.collect()
    gc.freeze()
