"""The one error the GPP codec raises, for bad strings and for bad field values alike."""

from __future__ import annotations

from privacyops.errors import FieldProblem, InvalidInput


class GppError(InvalidInput, ValueError):
    """A GPP string that cannot be read, or a field value that cannot be written.

    `where` names the place: a section and field (`usnat.SaleOptOut`), a segment
    (`usnat core segment`), or `header`. The message says what is wrong and where; it never
    echoes a whole string back (GPP strings travel with requests and may be long).
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}", [FieldProblem(where, message)])
        self.where = where
