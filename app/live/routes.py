"""GET /events: the signed-in user's live event stream."""

from __future__ import annotations

import json
import queue
import random

from flask import Response, current_app, request, session
from flask_login import current_user

from app.auth.sessions import session_key
from app.core.events import channel, visible_to
from app.core.numbers import to_int
from app.extensions import db, redis_store
from app.live import bp
from app.live.hub import Hub

# How long a browser waits before reconnecting a dropped stream (the SSE `retry:` field),
# drawn per stream: a deploy or a worker restart drops every stream at once, and a fixed
# delay would bring every browser back in the same instant.
RETRY_MS = (2000, 10000)


def retry_ms() -> int:
    return random.randint(*RETRY_MS)  # noqa: S311 - spreading load, not a secret


def get_hub() -> Hub:
    app = current_app._get_current_object()
    hub = app.extensions.get("kibray_hub")
    if hub is None:
        hub = app.extensions["kibray_hub"] = Hub(redis_store.client, channel(), redis_store.key("events", "log"))
    return hub


def format_event(message: dict) -> str:
    data = json.dumps(message.get("data", {}), separators=(",", ":"))
    return f"id: {message['id']}\nevent: {message['event']}\ndata: {data}\n\n"


@bp.get("/events")
def stream():
    if not current_user.is_authenticated:
        return Response("sign in first\n", status=401, mimetype="text/plain")
    user_id, role = current_user.id, current_user.role
    # The stream lives as long as the session that opened it: logout elsewhere or the
    # idle timeout deletes the session record, and the next heartbeat ends the stream.
    live_session = session_key(current_app, session.sid)
    heartbeat = current_app.config["SSE_HEARTBEAT_SECONDS"]
    last_id = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    hub = get_hub()
    # Subscribe before reading the sequence so nothing published in between is lost.
    listener = hub.subscribe(user_id, role)
    current_seq = int(hub.client.get(redis_store.key("events", "seq")) or 0)
    # The stream may stay open for hours: give the database connection back now.
    db.session.remove()

    def generate():
        yield f"retry: {retry_ms()}\n"
        yield format_event({"id": current_seq, "event": "hello", "data": {"user": user_id}})
        after = to_int(last_id, maximum=2**63 - 1, minimum=0)
        if after is not None:
            for message in hub.replay(after):
                if visible_to(message, user_id, role):
                    yield format_event(message)
        while True:
            try:
                message = listener.queue.get(timeout=heartbeat)
            except queue.Empty:
                if not hub.client.exists(live_session):
                    yield format_event({"id": current_seq, "event": "session-ended", "data": {}})
                    return
                yield ": heartbeat\n\n"
                continue
            yield format_event(message)
            if message["event"] == "session-ended":
                return

    response = Response(
        generate(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )
    from app.core import metrics

    metrics.sse_opened()

    def _closed():
        metrics.sse_closed()
        hub.unsubscribe(listener)

    response.call_on_close(_closed)
    return response
