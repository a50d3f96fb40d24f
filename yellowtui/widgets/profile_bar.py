"""ProfileBar: which environment this is, on every screen, as k9s shows its context.

The profile's name on the profile's colour (red for production, say), and a read-only session
says so in capitals beside it. Hidden when there is neither a profile nor read-only, so a plain
``yellowtui --db URL`` looks as it always did.
"""

from __future__ import annotations

from textual.color import Color, ColorParseError
from textual.content import Content
from textual.widgets import Static

from yellowtui.access import YellowAccess
from yellowtui.presenters.safe_text import visible


class ProfileBar(YellowAccess, Static):
    """Which environment this is, on every screen, as k9s shows its context.

    The profile's name on the profile's colour, READ-ONLY in a read-only session, and the
    dashboard's label. Hidden when there is neither a profile nor read-only.
    """

    DEFAULT_CSS = """
    ProfileBar {
        height: 1;
        width: 1fr;
        background: $primary-muted;
        color: $text;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        app = self.yellow
        profile = app.profile
        self.display = profile is not None or app.read_only
        if not self.display:
            return
        if profile is not None and profile.colour:
            try:
                colour = Color.parse(profile.colour)
            except ColorParseError:
                colour = None
            if colour is not None:
                self.styles.background = colour
                self.styles.color = colour.get_contrast_text()
        self.update(self.describe())

    def describe(self) -> Content:
        """What the bar says: the profile, READ-ONLY when nothing can be written, and the dashboard's label.

        Returns:
            The bar's text.
        """
        app = self.yellow
        parts: list[Content] = []
        if app.profile is not None:
            parts.append(Content.assemble("profile ", (visible(app.profile.name), "bold")))
        if app.read_only:
            parts.append(Content.styled(" READ-ONLY · nothing can be written ", "bold reverse"))
        parts.append(Content(visible(app.display_label)))
        return Content("  ").join(parts)
