"""ConfirmActionScreen: a write to Airflow asks first. Says what will happen, `y` confirms,
Esc or `n` cancels (Enter presses the focused button, Cancel); dismisses with True only when
confirmed."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmActionScreen(ModalScreen[bool]):
    """Asks before a write to Airflow: pause or unpause a DAG, clear a run's failed tasks.

    The user reads what will happen, then confirms with ``y`` or the confirm button, or cancels
    with ``n``, esc or Cancel. Cancel has the focus, so Enter alone cancels. Dismisses with True
    only when confirmed.
    """

    CSS_PATH = "confirm_action.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    def __init__(self, title: str, body: Content, confirm_label: str = "Yes") -> None:
        """Ask before one write.

        Args:
            title: The question, such as ``Pause DAG_ID?``.
            body: What the write will do.
            confirm_label: The confirm button's label (`` (y)`` is added to it).
        """
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Content.styled(self.title_text, "bold"), id="confirm-title")
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm_label} (y)", variant="warning", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        """Confirm the write: the screen closes with True."""
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        """Cancel: the screen closes with False and nothing is sent to Airflow."""
        self.dismiss(False)
