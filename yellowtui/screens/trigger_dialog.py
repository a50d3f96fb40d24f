"""TriggerDialog: trigger a run of one DAG, with an optional conf (a JSON object, checked as you
type). Enter triggers, Esc cancels; dismisses with the conf, or None when cancelled."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from yellowtui.presenters.runs import parse_conf


class TriggerDialog(ModalScreen[dict[str, Any] | None]):
    """Triggers a run of one DAG, with an optional conf.

    The user may type a conf, a JSON object checked as they type (a problem disables Trigger),
    then presses Enter or Trigger; esc or Cancel gives up. Dismisses with the conf (``{}`` when
    the input is empty) or None when cancelled.
    """

    CSS_PATH = "trigger_dialog.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, dag_id: str) -> None:
        """Ask for the conf of a run of one DAG.

        Args:
            dag_id: The DAG to trigger.
        """
        super().__init__()
        self.dag_id = dag_id

    def compose(self) -> ComposeResult:
        with Vertical(id="trigger-box"):
            yield Static(Content.assemble(("Trigger a run of ", "bold"), (self.dag_id, "bold $accent")))
            yield Static("conf (optional), a JSON object:", classes="trigger-label")
            yield Input(placeholder='{"full": true}', id="trigger-conf")
            yield Static(id="trigger-problem")
            with Horizontal(id="trigger-buttons"):
                yield Button("Trigger (enter)", variant="warning", id="trigger-yes")
                yield Button("Cancel (esc)", id="trigger-no")

    def on_mount(self) -> None:
        self.query_one("#trigger-conf", Input).focus()

    @on(Input.Changed, "#trigger-conf")
    def _conf_changed(self, event: Input.Changed) -> None:
        _, problem = parse_conf(event.value)
        self.query_one("#trigger-problem", Static).update(Content.styled(problem or "", "$text-error"))
        self.query_one("#trigger-yes", Button).disabled = problem is not None

    @on(Input.Submitted, "#trigger-conf")
    @on(Button.Pressed, "#trigger-yes")
    def action_trigger(self) -> None:
        """Trigger with the conf typed: the dialog closes with it.

        A conf that is not a JSON object is refused: the dialog says why and stays open.
        """
        conf, problem = parse_conf(self.query_one("#trigger-conf", Input).value)
        if problem is not None:
            self.query_one("#trigger-problem", Static).update(Content.styled(problem, "$text-error"))
            return
        self.dismiss(conf)

    @on(Button.Pressed, "#trigger-no")
    def action_cancel(self) -> None:
        """Cancel: the dialog closes with None and nothing is triggered."""
        self.dismiss(None)
