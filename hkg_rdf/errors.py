"""The error every bad input becomes: it names the file, the record and the field; and which
errors are the file system refusing a write, which every store write (a load, a crawl's
``--store``, a served update) reports as :class:`StoreWriteError`, naming the store."""

from __future__ import annotations

import sqlite3


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


class StoreWriteError(InputError):
    """The file system refused a write to a new store version (a full disk), which is gone by
    then, the live one untouched. An InputError, so the CLI prints one line and exits 2; its own
    class, so the server answers 507 (its storage, not the request) instead of 400."""


def refused_write(error: BaseException) -> bool:
    """Is ``error`` the file system refusing a write (a full disk, a quota, a file-size limit, an
    I/O error)? Any OSError: pyoxigraph's for RocksDB ("IO error: No space left on device: While
    appending to file: ..."), Python's; reading a source raises InputError instead. SQLite's
    full disk or I/O error too (the search index). Anything else is a bug: it keeps its traceback."""
    if isinstance(error, sqlite3.Error):
        return error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)
    return isinstance(error, OSError) and not isinstance(error, (ConnectionError, TimeoutError))  # a fetch, not the disk
