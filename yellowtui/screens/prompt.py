"""PromptScreen: one line of input (a new stream's key, a file to save to), checked before it is taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

#: Returns why a value cannot be used, or None when it can.
Check = Callable[[str], str | None]


class PromptScreen(ModalScreen[str | None]):
    """One line of input (a new stream's key, a file to save to), checked before it is taken.

    The user types and presses Enter. An empty value, or one ``check`` refuses, is not taken:
    the reason shows under the input. Dismisses with the text, stripped, or None on esc.
    """

    CSS_PATH = "prompt.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", check: Check | None = None) -> None:
        """Ask for one value.

        Args:
            title: What to enter, shown above the input.
            value: The text the input starts with.
            placeholder: The hint shown while the input is empty.
            check: Says why a value cannot be used, or None when it can; None takes any value.
        """
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Content(self.title_text), id="prompt-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(Content.styled("Enter to accept · esc to cancel", "$text-muted"), id="prompt-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = "a value is needed" if not value else (self.check(value) if self.check else None)
        if problem:
            self.query_one("#prompt-error", Static).update(Content.styled(problem, "$text-error bold"))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Give up: the screen closes with None."""
        self.dismiss(None)
