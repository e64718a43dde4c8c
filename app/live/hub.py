"""One Redis subscription per process, fanned out to every open stream in it.

500 open streams cost one Redis connection, not 500; each stream owns a small queue
and the hub drops an event into the queues of the listeners in its audience.
"""

from __future__ import annotations

import json
import logging
import queue
import threading

from app.core.events import visible_to

log = logging.getLogger(__name__)


class Listener:
    def __init__(self, user_id: int, role: str):
        self.user_id = user_id
        self.role = role
        self.queue: queue.Queue = queue.Queue(maxsize=500)


class Hub:
    def __init__(self, client, channel: str, log_key: str):
        self.client = client
        self.channel = channel
        self.log_key = log_key
        self.listeners: set[Listener] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.ready = threading.Event()

    def subscribe(self, user_id: int, role: str) -> Listener:
        listener = Listener(user_id, role)
        with self.lock:
            self.listeners.add(listener)
            if self.thread is None or not self.thread.is_alive():
                self.ready.clear()
                self.thread = threading.Thread(target=self._run, name="sse-hub", daemon=True)
                self.thread.start()
        self.ready.wait(5)
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        with self.lock:
            self.listeners.discard(listener)

    def replay(self, after_id: int) -> list[dict]:
        """Events numbered after `after_id` still in the log (for Last-Event-ID)."""
        rows = self.client.zrangebyscore(self.log_key, f"({after_id}", "+inf")
        return [json.loads(row) for row in rows]

    def _run(self) -> None:
        while True:
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.ready.set()
                while True:
                    item = pubsub.get_message(timeout=1.0)
                    if item is None:
                        continue
                    self._dispatch(json.loads(item["data"]))
            except Exception:  # Redis went away: log, wait, resubscribe
                log.exception("sse hub lost its Redis subscription; retrying")
                self.ready.set()
                threading.Event().wait(1.0)

    def _dispatch(self, message: dict) -> None:
        with self.lock:
            targets = [each for each in self.listeners if visible_to(message, each.user_id, each.role)]
        for listener in targets:
            try:
                listener.queue.put_nowait(message)
            except queue.Full:  # a stalled browser must not hold the others up
                log.warning("dropping live event for a stalled stream (user %s)", listener.user_id)
