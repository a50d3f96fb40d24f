"""ConfirmScreen: a yes/no question before something that cannot be taken back."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question before something that cannot be taken back.

    The user reads the question and what will happen, and answers with ``y`` or the yes button,
    or ``n``, esc or the no button. The no button has the focus, so Enter alone declines.
    Dismisses with True for yes, False for no.
    """

    CSS_PATH = "confirm.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str | Content, body: Content, *, yes: str = "Yes", no: str = "Cancel") -> None:
        """Ask a question.

        Args:
            title: The question.
            body: What will happen, in detail.
            yes: The yes button's label (`` (y)`` is added to it).
            no: The no button's label (`` (n)`` is added to it).
        """
        super().__init__()
        self.title_content = title if isinstance(title, Content) else Content(title)
        self.body = body
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.title_content, id="confirm-title")
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="confirm-yes")
                yield Button(f"{self.no} (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        """Answer the question: the screen closes with ``answer``.

        Args:
            answer: True for yes, False for no.
        """
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")
