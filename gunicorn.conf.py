"""gunicorn settings. gevent workers hold many open SSE streams without starving other
requests (measured in docs/performance.md); GUNICORN_WORKERS / GUNICORN_THREADS / PORT."""

import os

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


def post_worker_init(worker):
    """Move the objects built at start-up out of the garbage collector's view: a full
    collection then walks only request garbage (measured in docs/performance.md)."""
    import gc

    gc.collect()
    gc.freeze()
