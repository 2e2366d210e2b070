"""Diagnostics: every problem is one line, `file:line:col: location: message`."""

from dataclasses import dataclass
from typing import Tuple


def format_location(path):
    """('program', 3, 'call_later') -> 'program[3].call_later'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class Diagnostic:
    file: str          # as displayed (relative to the working directory when possible)
    line: int          # 1-based
    col: int           # 1-based
    path: Tuple = ()   # data path inside the document; () = the document itself
    message: str = ""

    def __str__(self):
        where = format_location(self.path)
        head = "%s:%d:%d: " % (self.file, self.line, self.col)
        return head + (where + ": " if where else "") + self.message

    def sort_key(self):
        return (self.file, self.line, self.col, self.message)


class LoadError(Exception):
    """A scenario (or catalogue) failed to load; carries one or more diagnostics."""

    def __init__(self, diagnostics):
        self.diagnostics = sorted(set(diagnostics), key=Diagnostic.sort_key)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def show_value(v, limit=40):
    """A value as written in messages: JSON-like, short."""
    if v is None:
        text = "null"
    elif v is True or v is False:
        text = "true" if v else "false"
    elif isinstance(v, str):
        text = repr(v)
    elif isinstance(v, dict):
        text = "a mapping" if v else "{}"
    elif isinstance(v, list):
        text = "a list" if v else "[]"
    else:
        text = repr(v)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
