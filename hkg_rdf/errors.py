"""The error every bad input becomes: it names the file, the record and the field."""

from __future__ import annotations


class InputError(Exception):
    """Unusable input; the CLI prints it and exits 2 without touching the store."""

    def __init__(self, file: str, message: str, record: int | None = None, field: str | None = None, unit: str = "record"):
        self.file, self.message, self.record, self.field, self.unit = file, message, record, field, unit
        super().__init__(str(self))

    def __reduce__(self):  # picklable, so a conversion process can hand it to the loader
        return type(self), (self.file, self.message, self.record, self.field, self.unit)

    def __str__(self) -> str:
        where = [self.file]
        if self.record is not None:
            where.append(f"{self.unit} {self.record}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{': '.join(where)}: {self.message}"
