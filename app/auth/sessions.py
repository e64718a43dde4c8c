"""Server-side sessions in Redis: the cookie holds only a random id.

Shared by every web instance (nothing instance-local), idle-expired by Redis after
SESSION_IDLE_SECONDS, and truly ended on logout (the record is deleted, so a copied
cookie is worthless). Password and role changes end sessions through the user's
session epoch (see User.get_id).
"""

from __future__ import annotations

import secrets

from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from app.core.api import is_api_request

_serializer = TaggedJSONSerializer()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid: str | None = None, new: bool = False):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = secrets.token_urlsafe(32) if sid is None else sid
        self.new = new
        self.modified = False
        self.old_sid: str | None = None
        self.stateless = False  # never stored nor sent as a cookie (JSON API requests)
        self.unavailable = False  # Redis could not be read (core/outage.py)

    def regenerate(self) -> None:
        """New id for the same data (after login: defeats session fixation)."""
        self.old_sid = self.old_sid or self.sid
        self.sid = secrets.token_urlsafe(32)
        self.modified = True


BACKGROUND_HEADER = "X-Kibray-Background"


def is_background(req) -> bool:
    """A fragment the page fetched by itself after a live event: not the person's
    activity, so it does not keep an idle session alive."""
    return req.headers.get(BACKGROUND_HEADER) == "1" or req.path == "/events"


def session_key(app, sid: str) -> str:
    return f"{app.config['REDIS_KEY_PREFIX']}:session:{sid}"


def probe_paths(app) -> frozenset[str]:
    """The paths of the health probes (views marked @probe, core/api.py), found in the URL
    map once per app: the session is opened before the URL is matched."""
    found = app.extensions.get("kibray.probe_paths")
    if found is None:
        found = app.extensions["kibray.probe_paths"] = frozenset(
            rule.rule
            for rule in app.url_map.iter_rules()
            if not rule.arguments and getattr(app.view_functions.get(rule.endpoint), "health_probe", False)
        )
    return found


class RedisSessionInterface(SessionInterface):
    def _store(self, app):
        return app.extensions["kibray_redis"]

    def _key(self, app, sid: str) -> str:
        return session_key(app, sid)

    def open_session(self, app, request):
        if request.path in probe_paths(app):
            # A health probe (@probe) needs no session: none is read, made or saved, even
            # when the caller sends a cookie (so a probe never touches Redis for it).
            session = ServerSession(sid="", new=True)
            session.stateless = True
            return session
        if is_api_request(request):
            # The JSON API is stateless: bearer tokens only. Ignoring the session cookie
            # there means a browser's cookie can never authenticate (or be forged into) an API call.
            session = ServerSession(new=True)
            session.stateless = True
            return session
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid:
            from app.core import cached_reads
            from app.core.outage import OUTAGE_ERRORS

            try:
                key = self._key(app, sid)
                pipe = self._store(app).pipeline(transaction=False)
                if is_background(request):
                    pipe.get(key)
                else:
                    # Read and extend the idle timeout in one round trip: the idle timeout
                    # counts from the person's last request (a background fetch does not count).
                    pipe.getex(key, ex=app.config["SESSION_IDLE_SECONDS"])
                cached_reads.queue_generations(pipe)  # the page's cached reads, same round trip
                raw, generations = pipe.execute()
            except OUTAGE_ERRORS:
                # Redis is down: an empty session that is never saved; core/hooks.py answers
                # 503 for everything but the health probes (which report the outage).
                session = ServerSession(new=True)
                session.stateless = session.unavailable = True
                return session
            cached_reads.use_generations(generations)
            if raw is not None:
                return ServerSession(_serializer.loads(raw.decode()), sid=sid)
        return ServerSession(new=True)

    def save_session(self, app, session, response):
        if session.stateless:
            return
        store = self._store(app)
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.old_sid:
            store.delete(self._key(app, session.old_sid))
        if not session:
            if not session.new:
                store.delete(self._key(app, session.sid))
                response.delete_cookie(name, domain=domain, path=path)
            return
        ttl = app.config["SESSION_IDLE_SECONDS"]
        key = self._key(app, session.sid)
        if session.modified or session.new or session.old_sid:
            store.set(key, _serializer.dumps(dict(session)), ex=ttl)
        # else: unchanged, and open_session already extended it (GETEX): nothing to write
        if session.new or session.old_sid:
            response.set_cookie(
                name,
                session.sid,
                httponly=self.get_cookie_httponly(app),
                secure=self.get_cookie_secure(app),
                samesite=self.get_cookie_samesite(app),
                domain=domain,
                path=path,
            )
        response.vary.add("Cookie")
