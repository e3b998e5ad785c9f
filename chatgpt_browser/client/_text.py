"""`markdown=False`: turn the model's Markdown answer into plain text, as the original
client did (it used remark's strip-markdown). The `markdown` library renders HTML;
the stdlib HTML parser collects its text, keeping paragraphs, list items and code
blocks on their own lines.
"""

from __future__ import annotations

import html.parser
import re

_BLOCKS = {"p", "div", "pre", "blockquote", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
_LINES = {"li", "tr", "br"}


class _TextCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pre = 0
        self._cells = 0

    def _newlines(self, count: int) -> None:
        text = "".join(self.parts)
        have = len(text) - len(text.rstrip("\n"))
        if text and have < count:
            self.parts.append("\n" * (count - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre += 1
        if tag in _BLOCKS:
            self._newlines(2)
        elif tag in _LINES:
            self._newlines(1)
            self._cells = 0
        elif tag in ("td", "th"):
            if self._cells:
                self.parts.append("\t")
            self._cells += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre -= 1
        if tag in _BLOCKS:
            self._newlines(2)

    def handle_data(self, data: str) -> None:
        if not self._pre:
            data = re.sub(r"\s*\n\s*", " ", data) if data.strip() else ("" if "\n" in data else data)
        self.parts.append(data)


def markdown_to_text(text: str) -> str:
    """Plain text of a Markdown document (no markup characters, structure as line breaks)."""
    if not text:
        return text
    import markdown  # lazy: only markdown=False clients need it

    rendered = markdown.markdown(text, extensions=["fenced_code", "tables"])
    collector = _TextCollector()
    collector.feed(rendered)
    collector.close()
    return "".join(collector.parts).strip("\n").rstrip()


__all__ = ["markdown_to_text"]
