"""Sources -> records: read a HuggingKG release (directory or .zip) or a triples.txt, streaming.

The format is the published one, as ``HuggingKG/HuggingKG_constructor.py`` (nju-websoft/
HuggingBench) writes it: each file a JSON array dumped with ``json.dump(records, f, indent=4)``,
fields in the constructor's order with its types (HUGGINGKG.md section 1; ontology/mapping.ttl
declares which fields are lists and which one value or null). Every record is checked against the
mapping (key present, each field of the right shape) as it streams by; the first bad one raises
:class:`InputError` naming file, record index, field and the shape expected. Records never pile
up in memory: a 5 GB models.json passes through one record at a time. :class:`JsonArrayWriter`
writes the same serialisation back, byte for byte what ``json.dump(..., indent=4)`` gives.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _ascii_string  # C, as json.dump's default ensure_ascii
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import IO, NamedTuple

import ijson

from .errors import InputError
from .report import Report
from .vocab import XSD_DATETIME, EntityType, Field, Relation, Vocabulary, vocabulary

EXTRA_DATA = "extra_data"
#: The id lists the published release keeps in extra_data/ (the constructor's save_extra_data):
#: sets of ids of what the graph files hold already, and the author of every repo before users
#: were told from organizations. Nothing in them is graph data the other files lack.
EXTRA_DATA_FILES = frozenset(f"{name}.json" for name in (
    "task_ids", "model_ids", "dataset_ids", "space_ids", "paper_ids", "collection_slugs", "user_ids", "org_ids",
    "arxiv_ids", "username_ids", "username_publish_model", "username_publish_dataset", "username_publish_space",
))
_DATETIME = re.compile(
    r"(?P<year>-?\d{4,})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12]\d|3[01])"
    r"[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Entity(NamedTuple):
    """A checked entity record: its type, id and field values (None for null, [] for no items)."""

    type: EntityType
    id: str
    values: dict


class Edge(NamedTuple):
    """One pair of a relation file, as the release lists it (subject key first)."""

    relation: Relation
    subject: str
    object: str


# ---------------------------------------------------------------- field checks


def _check_string(value: object) -> bool:
    return isinstance(value, str)


def _check_datetime(value: object) -> bool:
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (_DAYS_IN_MONTH[month - 1] if month != 2 or leap else 28)


def _check_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def scalar_check(field: Field) -> tuple[Callable[[object], bool], str]:
    if field.datatype == XSD_DATETIME:
        return _check_datetime, "an ISO 8601 date-time (e.g. 2024-12-15T10:31:02.000Z) or null"
    if field.is_count:
        return _check_count, "a non-negative integer or null"
    return _check_string, "a string or null"


@dataclass(frozen=True)
class RecordChecker:
    """Checks the records of one entity file, one field at a time."""

    entity_type: EntityType
    file: str

    @cached_property
    def _checks(self) -> tuple[tuple[Field, Callable[[object], bool], str], ...]:
        """Each field with its check, chosen once per file rather than once per value."""
        return tuple((field, *scalar_check(field)) for field in self.entity_type.fields)

    def check(self, index: int, record: object, report: Report) -> Entity:
        if not isinstance(record, dict):
            raise InputError(self.file, f"expected a JSON object, got {_describe(record)}", index)
        key = self.entity_type.key.name
        entity_id = record.get(key)
        if not isinstance(entity_id, str) or not entity_id:
            raise InputError(self.file, f"the key is missing or not a non-empty string ({_describe(entity_id)})", index, key)
        values = {field.name: self._value(index, record, field, ok, expected, report) for field, ok, expected in self._checks}
        if len(record) != len(values):
            for extra in record.keys() - values.keys():
                report.skip(f"{self.file}: unknown field {extra!r} (not in the mapping)", entity_id)
        return Entity(self.entity_type, entity_id, values)

    def _value(self, index: int, record: dict, field: Field, ok: Callable[[object], bool], expected: str, report: Report) -> object:
        if field.name not in record:
            report.keep(f"{self.file}: field {field.name!r} missing, read as {'[]' if field.is_list else 'null'}", index)
            return [] if field.is_list else None
        value = record[field.name]
        if field.is_list:
            return self._list(index, value, field, report)
        if isinstance(value, (list, dict)):
            raise InputError(self.file, f"wrong shape: expected one value, {expected} (not a list), got {_describe(value)}", index, field.name)
        if value is not None and not ok(value):
            raise InputError(self.file, f"expected {expected}, got {_describe(value)}", index, field.name)
        if field.datatype == XSD_DATETIME and value is not None and " " in value:
            # str(datetime), as a json.dump(..., default=str) of the client's datetimes writes it
            report.keep(f"{self.file}: field {field.name!r} has a space for the 'T' (Python's str(datetime)), read as ISO 8601", index)
            return value.replace(" ", "T", 1)
        return value

    def _list(self, index: int, value: object, field: Field, report: Report) -> list:
        if value is None:
            report.keep(f"{self.file}: field {field.name!r} is null, read as []", index)
            return []
        if not isinstance(value, list):
            raise InputError(self.file, f"wrong shape: expected a list of strings, got one value {_describe(value)}", index, field.name)
        if not all(isinstance(item, str) for item in value):
            raise InputError(self.file, f"expected a list of strings, got {_describe(value)}", index, field.name)
        if len(value) > 1 and len(set(value)) != len(value):  # RDF keeps one triple per distinct item
            report.keep(f"{self.file}: field {field.name!r} repeats an item, stored once", [index, value])
        return value


# ---------------------------------------------------------------- JSON streaming


class _Prepended:
    """A binary stream with bytes already read from it put back in front (for ijson)."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._stream.read(size)


def _array_stream(stream: IO[bytes], file: str) -> _Prepended:
    """The stream, checked to hold a JSON array: ijson would read anything else as no records."""
    first = stream.read(1)
    while first.isspace():
        first = stream.read(1)
    if first != b"[":
        found = "an empty file" if not first else f"a document starting with {first.decode('latin-1')!r}"
        raise InputError(file, f"expected a JSON array of records, got {found}")
    return _Prepended(first, stream)


def _json_records(stream: IO[bytes], file: str) -> Iterator[tuple[int, object]]:
    """(index, record) for each element of a top-level JSON array, streaming."""
    index = -1
    try:
        for index, record in enumerate(ijson.items(_array_stream(stream, file), "item", use_float=True)):
            yield index, record
    except ijson.JSONError as error:
        raise InputError(file, f"malformed JSON after record {index}: {error}", index + 1) from error
    except UnicodeDecodeError as error:  # yajl lets overlong / surrogate UTF-8 sequences through to Python
        raise InputError(file, f"not UTF-8 text after record {index}: {error}", index + 1) from error
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError) as error:
        raise InputError(file, f"cannot read (truncated or corrupt archive?): {error}", index + 1) from error


class JsonArrayWriter:
    """Writes a release file as the constructor does, one record at a time (no file in memory).

    The bytes are those of ``json.dump(records, f, indent=4)``: records indented by 4 spaces and
    their fields by 8, list items by 12, keys in the record's order, non-ASCII as ``\\uXXXX``
    escapes, ``[]`` for an empty file and no final newline. A flat record (strings, numbers,
    null, lists of those: every release record) is encoded here directly; anything nested goes
    through ``json.dumps`` itself.
    """

    def __init__(self, stream: IO[str]):
        self.stream, self.count = stream, 0

    def write(self, record: dict) -> None:
        self.write_json(record_json(record))

    def write_json(self, text: str) -> None:
        """Write one record already encoded by :func:`record_json` (or with ``INDENT`` layout)."""
        self.stream.write(("[\n    " if self.count == 0 else ",\n    ") + text)
        self.count += 1

    def close(self) -> None:
        self.stream.write("\n]" if self.count else "[]")


def _scalar_json(value: object) -> str | None:
    """JSON text of a scalar as ``json.dumps`` writes it, or None for a container."""
    if isinstance(value, str):
        return _ascii_string(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return None


def record_json(record: dict) -> str:
    """One record as ``json.dump(records, f, indent=4)`` lays it out inside the array."""
    parts = []
    for key, value in record.items():
        text = _scalar_json(value)
        if text is None and isinstance(value, list):
            items = [_scalar_json(item) for item in value]
            if None not in items:
                text = "[\n            " + ",\n            ".join(items) + "\n        ]" if items else "[]"
        if text is None or not isinstance(key, str):
            return json.dumps(record, indent=4).replace("\n", "\n    ")
        parts.append(f"{_ascii_string(key)}: {text}")
    return "{\n        " + ",\n        ".join(parts) + "\n    }" if parts else "{}"


def _edge(relation: Relation, file: str, index: int, record: object) -> Edge:
    if not isinstance(record, dict):
        raise InputError(file, f"expected a JSON object, got {_describe(record)}", index)
    expected = {relation.subject_key, relation.object_key}
    if record.keys() != expected:
        wrong = sorted(record.keys() ^ expected)
        raise InputError(file, f"expected exactly the keys {sorted(expected)}, got {sorted(record)}", index, wrong[0])
    subject, obj = record[relation.subject_key], record[relation.object_key]
    for key, value in ((relation.subject_key, subject), (relation.object_key, obj)):
        if not isinstance(value, str) or not value:
            raise InputError(file, f"expected a non-empty string id, got {_describe(value)}", index, key)
    return Edge(relation, subject, obj)


# ---------------------------------------------------------------- release (directory or zip)


class Release:
    """A HuggingKG release: a directory ``HuggingKG_V.../`` (or one holding it) or its .zip."""

    def __init__(self, path: Path, vocab: Vocabulary | None = None):
        self.path = path
        self.vocab = vocab or vocabulary()
        self._zip: zipfile.ZipFile | None = None
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise InputError(str(path), f"not a readable zip archive (truncated?): {error}") from error
            names = [PurePosixPath(n) for n in self._zip.namelist() if not n.endswith("/")]
        elif path.is_dir():
            names = [p.relative_to(path) for p in path.rglob("*") if p.is_file()]
        else:
            raise InputError(str(path), "no such release directory or zip file")
        self.members = self._index(names)

    def _index(self, names: list) -> dict[str, str]:
        """Map release file names to members, ignoring extra_data/ and unknown files."""
        known = {t.file for t in self.vocab.types} | {f"{r.name}.json" for r in self.vocab.relations}
        members: dict[str, str] = {}
        self.ignored: list[str] = []
        for name in sorted(names, key=str):
            if name.name in known and EXTRA_DATA not in name.parts[:-1]:
                if name.name in members:
                    raise InputError(str(self.path / str(name)), f"second copy of {name.name} (first: {members[name.name]})")
                members[name.name] = str(name)
            else:
                self.ignored.append(str(name))
        if not members:
            raise InputError(str(self.path), "no HuggingKG release files found (expected models.json, ...)")
        self.missing = sorted(known - members.keys())
        return members

    def label(self, name: str) -> str:
        return str(self.path / self.members[name]) if self._zip is None else f"{self.path}!{self.members[name]}"

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        member = self.members[name]
        if self._zip is not None:
            try:
                stream = self._zip.open(member)
            except (zipfile.BadZipFile, OSError) as error:
                raise InputError(self.label(name), f"cannot open archive member: {error}") from error
        else:
            stream = open(self.path / member, "rb")
        with stream:
            yield stream

    def report_files(self, report: Report) -> None:
        """Notices for every file not read: extra_data/'s known id lists, and anything unknown."""
        id_lists = [n for n in self.ignored if EXTRA_DATA in PurePosixPath(n).parts[:-1] and PurePosixPath(n).name in EXTRA_DATA_FILES]
        for name in self.ignored:
            if name not in id_lists:
                report.notice(f"ignored unknown file {name}")
        if id_lists:
            report.notice(f"{EXTRA_DATA}/: {len(id_lists)} id list(s) of the published release recognised and not read "
                          f"({', '.join(sorted(PurePosixPath(n).stem for n in id_lists))}): the graph files hold the same ids")
        for name in self.missing:
            report.notice(f"release has no {name}: nothing of it converted")

    def entities(self, report: Report) -> Iterator[Entity]:
        for entity_type in self.vocab.types:
            if entity_type.file not in self.members:
                continue
            checker = RecordChecker(entity_type, self.label(entity_type.file))
            with self.open(entity_type.file) as stream:
                for index, record in _json_records(stream, checker.file):
                    yield checker.check(index, record, report)

    def edges(self) -> Iterator[Edge]:
        for relation in self.vocab.relations:
            name = f"{relation.name}.json"
            if name not in self.members:
                continue
            label = self.label(name)
            with self.open(name) as stream:
                for index, record in _json_records(stream, label):
                    yield _edge(relation, label, index, record)


# ---------------------------------------------------------------- triples.txt


def edge_list(path: Path, vocab: Vocabulary | None = None) -> Iterator[Edge]:
    """The edges of a ``triples.txt`` (``head<TAB>relation<TAB>tail`` per line), streaming."""
    vocab = vocab or vocabulary()
    try:
        with open(path, "rb") as lines:
            for number, raw in enumerate(lines, 1):
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as error:
                    raise InputError(str(path), f"not UTF-8 text: {error}", number, unit="line") from None
                if not line:
                    continue
                parts = line.split("\t")
                if len(parts) != 3:
                    raise InputError(str(path), f"expected head<TAB>relation<TAB>tail, got {len(parts)} column(s)", number, unit="line")
                head, name, tail = parts
                try:
                    relation = vocab.relation(name)
                except KeyError:
                    raise InputError(str(path), f"unknown relation {name!r}", number, "relation", unit="line") from None
                if not head or not tail:
                    raise InputError(str(path), "empty id", number, "head" if not head else "tail", unit="line")
                yield Edge(relation, head, tail)
    except OSError as error:
        raise InputError(str(path), f"cannot read: {error}") from error
