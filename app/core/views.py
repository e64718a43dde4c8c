"""What a viewer may see of a resource, declared once per resource and used by both the
JSON output and the templates (CTFd's schema `views` are the model).

    PROJECT_VIEW = FieldView("project", Project, {"budget": "costs.view", "team": "team.view"})
    PROJECT_VIEW.shows(user, project, "budget")   # in Python
    {% if shows(project, 'budget') %}             # in a template (current user)

Fields not named are visible to everyone who may see the resource at all. With the
resource's name or model class instead of an object the question is "on at least one
of them" (a list's column header), like `can()` without an object.
"""

from __future__ import annotations

from app.core.permissions import can, can_each, model_of

_VIEWS: dict[type | str, FieldView] = {}


class FieldView:
    def __init__(self, name: str, model: type, guarded: dict[str, str]):
        self.name, self.model = name, model
        self.guarded = dict(guarded)  # field → the permission action that shows it
        self.actions = tuple(dict.fromkeys(self.guarded.values()))
        _VIEWS[model] = _VIEWS[name] = self

    def shows(self, user, obj, field: str) -> bool:
        """May `user` see `field` of `obj` (an instance; or the name/model: of any)?"""
        action = self.guarded.get(field)
        if action is None:
            return True
        return can(user, action, self._target(obj))

    def hidden(self, user, obj) -> set[str]:
        """The guarded fields `user` may not see of `obj`."""
        from app.core.permissions import _unproxied

        user = _unproxied(user)
        target = self._target(obj)
        allowed = {action: can(user, action, target) for action in self.actions}  # each asked once
        return {field for field, action in self.guarded.items() if not allowed[action]}

    def shows_each(self, user, field: str):
        """`shows(user, obj, field)` for many objects of this model (a page's rows): a
        function obj → bool, the permission's scope resolved once (permissions.can_each)."""
        action = self.guarded.get(field)
        if action is None:
            return lambda obj: True
        return can_each(user, action, self.model)

    def hidden_each(self, user):
        """`hidden(user, obj)` for many objects of this model: a function obj → set."""
        checks = {action: can_each(user, action, self.model) for action in self.actions}
        guarded = tuple(self.guarded.items())
        return lambda obj: {field for field, action in guarded if not checks[action](obj)}

    def _target(self, obj):
        """The object a permission is asked of: `obj` itself if it is one of this model's
        (an instance or a RowOf), else None (the question is "on any")."""
        return obj if not isinstance(obj, (type, str)) and model_of(obj) is self.model else None


def view_of(obj_or_model) -> FieldView:
    key = obj_or_model if isinstance(obj_or_model, (type, str)) else model_of(obj_or_model)
    try:
        return _VIEWS[key]
    except KeyError:
        raise LookupError(f"no FieldView declared for {key!r}") from None


def template_shows(obj_or_model, field: str) -> bool:
    """Jinja global `shows(project, 'budget')` for the signed-in user."""
    from app.core.permissions import signed_in_user

    return view_of(obj_or_model).shows(signed_in_user(), obj_or_model, field)
