"""One typed way from a screen, a widget or a command provider to the app.

Textual types ``self.app`` as ``App[object]``; reaching app attributes through it needs either
``getattr(app, "name", default)`` (a renamed attribute silently shows the default) or a
``type: ignore``. ``self.yellow`` is the same object, typed as :class:`YellowApp`, so a renamed
attribute fails the type check instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App

    from yellowtui.app import YellowApp


class _HasApp(Protocol):
    @property
    def app(self) -> App[Any]: ...


class YellowAccess:
    """Mixin for anything Textual gives an ``app`` (widgets, screens, command providers)."""

    __slots__ = ()

    @property
    def yellow(self: _HasApp) -> YellowApp:
        return cast("YellowApp", self.app)
