"""ContentTree: a Tree whose labels may be Textual ``Content`` styled with theme variables
(``$text-error``...), so trees follow the theme like every other widget.

Textual types tree labels as ``str | Text``; :meth:`ContentTree.content_label` turns Content
into that Text (in the tree's current theme) so callers pass what the signature says. Labels are
literal: a ``str`` is never read as markup, and every control character is shown as an escape.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style as RichStyle
from rich.text import Text, TextType
from textual.content import Content
from textual.markup import parse_style
from textual.widgets import Tree

from yellowtui.presenters.safe_text import visible


class ContentTree(Tree[Any]):
    """A Tree whose labels may be Textual Content styled with theme variables, so it follows the theme.

    A ``str`` label is literal text, never markup.
    """

    def process_label(self, label: TextType | Content) -> Text:
        """Turn a label into the Rich Text the tree draws.

        Content is drawn in this tree's style; a ``str`` literally, never as markup (control
        characters shown as escapes).

        Args:
            label: The label as given.

        Returns:
            The label as Text.
        """
        if isinstance(label, Content):
            return self.content_label(label)
        if isinstance(label, str):  # never markup: a str label is literal text
            return Text(visible(label))
        return super().process_label(label)

    def content_label(self, label: Content) -> Text:
        """``label`` as one line of Rich Text in this tree's style, without backgrounds.

        The backgrounds go so that the cursor line still shows.

        Args:
            label: The styled label.

        Returns:
            The label as Text, for ``add``, ``add_leaf`` or ``set_label``.
        """
        base = self.visual_style
        parts = []
        for text, style in label.render(
            base, end="", parse_style=lambda s: parse_style(s) if isinstance(s, str) else s
        ):
            rich = (base + style).rich_style
            # Keep colour and emphasis, drop the background so the cursor line still shows.
            parts.append(
                (
                    visible(text),  # data text: control characters shown as escapes
                    RichStyle(
                        color=rich.color,
                        bold=rich.bold,
                        italic=rich.italic,
                        underline=rich.underline,
                        reverse=rich.reverse,
                    ),
                )
            )
        return Text.assemble(*parts).split()[0] if parts else Text()
