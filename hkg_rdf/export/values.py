"""RDF terms -> release values: the literal of a field back to the JSON value the release held."""

from __future__ import annotations

import re
import pyoxigraph as ox

from ..records import scalar_check
from ..vocab import INTEGER_TYPES, XSD, XSD_DATETIME, Field

_UTC = re.compile(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z")
#: An item's position (hkg:position), read like a field.
POSITION = Field("position", "", XSD + "positiveInteger", is_list=False, is_key=False)


def hub_datetime(value: str) -> str:
    """An xsd:dateTime as the Hub writes it: UTC with milliseconds.

    Oxigraph hands back the canonical form ("2024-12-15T10:31:02Z", trailing zeros of the
    fraction dropped); the release has "2024-12-15T10:31:02.000Z". Finer fractions and values
    with another or no time zone are left as they are.
    """
    match = _UTC.fullmatch(value)
    if match is None:
        return value
    return f"{match.group(1)}.{(match.group(2) or '').ljust(3, '0')}Z"


class FieldReader:
    """Reads one field's values from RDF terms, its checks chosen once rather than per value."""

    __slots__ = ("field", "prop", "expected", "_check", "_datatype", "_count", "_key")

    def __init__(self, field: Field):
        self.field, self.prop = field, field.prop
        self._check, self.expected = scalar_check(field)
        self._datatype, self._count, self._key = field.datatype, field.is_count, field.is_key

    def value(self, term: object) -> object | None:
        """The release value of one RDF term, or None if the term cannot be one."""
        if not isinstance(term, ox.Literal):
            return None
        datatype = term.datatype.value
        value: object
        if self._count:
            if datatype not in INTEGER_TYPES:
                return None
            try:
                value = int(term.value)
            except ValueError:
                return None
        elif datatype != self._datatype:
            return None
        else:
            value = hub_datetime(term.value) if datatype == XSD_DATETIME else term.value
        return value if self._check(value) and (value != "" or not self._key) else None

