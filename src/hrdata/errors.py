"""Errors hrdata raises on purpose, and the reasons a row is rejected.

* HrdataError                 every error below; ANSWERS gives each its exit code and HTTP status
  + UnknownTable              a table name not in the data dictionary
  + SourceError               a source that cannot be read (missing, empty, S3 denied...)
    + TableContradicted       a file named for one table, given another and not forced
    + TableNotNamed           a file whose name says no table, given none
    + TableForOneFile         a table given for a folder or prefix, not one file
  + HeaderMismatch            a header line that lacks a column or names an unknown one
  + SourceOutsideRoots        a source named through the API outside HRDATA_SOURCE_ROOTS
  + ConfigurationError        settings that cannot work
  + DatabaseUnavailable       PostgreSQL cannot be reached or was lost mid-run (Retry-After)
    + RequestTimedOut         a request's SQL ran past HRDATA_STATEMENT_TIMEOUT_SECONDS
  + InvalidArgument           a command-line or request argument that makes no sense
    + BadRejectLimit          a reject limit that is neither a count nor a share
  + NotAuthenticated          no API key, or one that is malformed, unknown, wrong or revoked
  + TooManyFailures           an address that presented wrong keys too often (Retry-After)
  + Forbidden                 a valid API key whose role does not allow the action
  + NotFound                  a job, key or other resource that does not exist
  + BadRequestBody            a request body that is not the expected shape
    + BatchSizeError          an empty batch, or more rows than allowed
  + UnsupportedMediaType      a body in a content type the endpoint does not read
  + PayloadTooLarge           a body over the configured size
  + IdempotencyConflict       an Idempotency-Key reused with a different request
  + BackupCorrupt             a backup file that is damaged, truncated or not what it claims
    + BackupRowsInvalid       an intact backup file holding rows the dictionary forbids
  + RestoreWouldBreakReferences  restored rows that would leave references dangling
  + StorageError              a local folder or file hrdata cannot create, read or write
  + RunPartlyLoaded           a migration that kept some files, then stopped on one
  + LoadFailed                PostgreSQL refused a file's rows for a reason the checks missed

Exit codes that are no error: 0 (all done) and EXIT_OVER_REJECT_LIMIT; 1 is anything else.

An error that names an option the caller sets (`table`, `force`, `max_rejects`) has the edge
that shows it spell the option (`worded`): `--force` on the command line, `"force": true` in
a request body; the message itself names it plainly.

Rejected rows are data, not exceptions: a `Reason` (declared with the messages, in wire.py)
says what is wrong with one value, under one of the codes of `Code` below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from hrdata.wire import Reason

# A migration that ran, but kept nothing of a file over --max-rejects (its rejects are logged).
EXIT_OVER_REJECT_LIMIT = 3

# How an edge spells an option a caller sets, given its name: "force" -> "--force".
Spelling = Callable[[str], str]


def _plain(option: str) -> str:
    return f"`{option}`"


def first_line(exc: BaseException) -> str:
    """The first line of `exc`'s message, for a one-line log or error; its type when empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class HrdataError(Exception):
    """Base of every error hrdata raises on purpose."""

    # Seconds after which trying again may succeed: the API answer's Retry-After, when set.
    retry_after: int | None = None

    def worded(self, option: Spelling) -> str:
        """The message, each option it names spelled by `option`; most messages name none."""
        return str(self)


class UnknownTable(HrdataError):
    """A table name not in the data dictionary; `known`: the names that are, in load order."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        super().__init__(f"unknown table {name!r} (known tables: {', '.join(known)})")


class SourceError(HrdataError):
    """A source that cannot be read (missing, empty, S3 denied...)."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.detail = message
        super().__init__(f"{source}: {message}")

    def worded(self, option: Spelling) -> str:
        return f"{self.source}: {self.said(option)}"

    def said(self, option: Spelling) -> str:
        """What is wrong with the source, each option named spelled by `option`."""
        return self.detail


class TableContradicted(SourceError):
    """A file named for one table, given another: most likely a slip, so refused unless forced."""

    def __init__(self, source: str, named: str, given: str) -> None:
        self.named, self.given = named, given
        super().__init__(source, self.said(_plain))

    def said(self, option: Spelling) -> str:
        return (
            f"named for table {self.named}, not {self.given}: rename it, "
            f"or pass {option('force')} to load it into {self.given}"
        )


class TableNotNamed(SourceError):
    """A file whose name says no table, when none was given for it; `expected`: the names."""

    def __init__(self, source: str, expected: str) -> None:
        self.expected = expected
        super().__init__(source, self.said(_plain))

    def said(self, option: Spelling) -> str:
        return (
            f"cannot tell which table it is for: name it {self.expected} (or .csv.gz), "
            f"or pass {option('table')}"
        )


class TableForOneFile(SourceError):
    """A table given for many files (a folder, an S3 prefix): it names the table of one."""

    def __init__(self, source: str, one: str, many: str) -> None:
        self.one, self.many = one, many
        super().__init__(source, self.said(_plain))

    def said(self, option: Spelling) -> str:
        return f"{option('table')} applies to a single {self.one}, not a {self.many}"


class SourceOutsideRoots(HrdataError):
    """A source named through the API that does not lie under the configured source roots."""

    def __init__(self, source: str, roots: list[str], why: str = "") -> None:
        self.source = source
        self.roots = roots
        allowed = ", ".join(roots) if roots else "none: it is empty"
        super().__init__(
            f"{source}: outside the source roots{why}; the API reads sources only under "
            f"HRDATA_SOURCE_ROOTS ({allowed}), after resolving symlinks and '..'"
        )


class HeaderMismatch(HrdataError):
    """A first line that is a header, but not one of the table's columns each once: the
    `expected` columns it lacks (`missing`), the names it has beyond them (`unknown`) and
    those it gives twice (`repeated`)."""

    def __init__(
        self, expected: list[str], missing: list[str], unknown: list[str], repeated: list[str]
    ) -> None:
        self.expected = expected
        self.missing, self.unknown, self.repeated = missing, unknown, repeated
        found = {"lacks": missing, "names unknown": unknown, "repeats": repeated}
        problems = [
            f"{what} {', '.join(map(repr, names))}" for what, names in found.items() if names
        ]
        super().__init__(
            f"the first line is a header, but it {'; '.join(problems)} "
            f"(expected the columns {', '.join(expected)}, in any order, each once)"
        )


class ConfigurationError(HrdataError):
    """Settings that cannot work."""


class InvalidArgument(HrdataError):
    """A command-line or request argument that makes no sense."""


class BadRejectLimit(InvalidArgument):
    """A reject limit that is neither a count (`100`) nor a share of the rows read (`2%`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(self.worded(_plain))

    def worded(self, option: Spelling) -> str:
        return (
            f"{option('max_rejects')} {self.text!r}: expected a count like 100 or a share like 2%"
        )


class DatabaseUnavailable(HrdataError):
    """PostgreSQL cannot be reached, or was lost mid-run."""

    # The API tries an unreachable database again every quarter second, so a second is enough.
    retry_after = 1


class RequestTimedOut(DatabaseUnavailable):
    """A statement ran past the statement timeout; its transaction was rolled back."""


class NotAuthenticated(HrdataError):
    """No API key, or one that is malformed, unknown, wrong or revoked."""


class TooManyFailures(HrdataError):
    """Too many failed key checks from one address in the window; `retry_after` in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"too many failed API key checks from this address; try again in {retry_after} s"
        )


class Forbidden(HrdataError):
    """A valid API key whose role does not allow the action."""


class NotFound(HrdataError):
    """A job, key or other resource that does not exist."""


class BadRequestBody(HrdataError):
    """A request body that is not the expected shape."""


class BatchSizeError(BadRequestBody):
    """An empty batch, or more rows than allowed: `rows` in it, at most `limit`."""

    def __init__(self, rows: int, limit: int) -> None:
        self.rows, self.limit = rows, limit
        super().__init__(f"a batch holds 1 to {limit} rows; this one has {rows}")


class UnsupportedMediaType(HrdataError):
    """A body in a content type the endpoint does not read."""


class PayloadTooLarge(HrdataError):
    """A body over the configured size."""


class IdempotencyConflict(HrdataError):
    """An Idempotency-Key reused with a different request."""


class BackupCorrupt(HrdataError):
    """A backup file that is damaged, truncated or not what it claims: which set, and the
    table and file when the problem is one table's (the manifest's is the set's)."""

    def __init__(
        self, message: str, *, backup_id: str, table: str | None = None, file: str | None = None
    ) -> None:
        self.backup_id, self.table, self.file = backup_id, table, file
        super().__init__(message)


class BackupRowsInvalid(BackupCorrupt):
    """A backup file whose rows are intact but break the dictionary's rules: the first
    `rows` that do, each numbered in the file with every reason."""

    def __init__(
        self, backup_id: str, table: str, file: str, rows: list[tuple[int, list[Reason]]]
    ) -> None:
        self.rows = rows
        shown = "; ".join(
            f"row {number}: " + ", ".join(f"{r.message} ({r.code})" for r in reasons)
            for number, reasons in rows
        )
        super().__init__(
            f"restore refused, nothing was changed: {file} of backup {backup_id} holds "
            f"{table} rows the data dictionary forbids; first: {shown}",
            backup_id=backup_id,
            table=table,
            file=file,
        )


class RestoreWouldBreakReferences(HrdataError):
    """Restored rows that would leave references dangling: `rows` of `child` whose `column`
    names ids `parent` lacks; `ids` the first of them, `more` when there are others."""

    def __init__(
        self, child: str, column: str, parent: str, rows: int, ids: list[int], *, more: bool
    ) -> None:
        self.child, self.column, self.parent = child, column, parent
        self.rows, self.ids, self.more = rows, ids, more
        shown = ", ".join(map(str, ids)) + (", ..." if more else "")
        super().__init__(
            f"restore refused, nothing was changed: {rows} {child} rows would point "
            f"at {parent} that do not exist ({column} {shown})"
        )


class StorageError(HrdataError):
    """A path hrdata must read or write (backup or log location, home, report) that it cannot."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class RunPartlyLoaded(HrdataError):
    """A migration that kept the files before one, then stopped on it: `report` (the run's
    summary) says which files are in, which failed and why, and which were not started."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        self.report = report
        super().__init__(message)


class LoadFailed(HrdataError):
    """The database refused a file's rows for a reason validation did not foresee."""


# What each error means at the edges, in one place: the CLI's exit code and the API's HTTP
# status. Each row is a kind of error its callers tell apart (the API's `error.type` is its
# name); a class not listed is its nearest listed base to every edge, a refinement that only
# carries more facts (TableContradicted is a SourceError); an exception hrdata did not raise
# on purpose is HrdataError. docs/migration.md and docs/api.md give these codes to users
# (tests/test_errors.py holds them to this table).
ANSWERS: dict[type[HrdataError], tuple[int, int]] = {
    # error: (exit code, HTTP status)
    HrdataError: (1, 500),
    UnknownTable: (2, 404),
    SourceError: (2, 422),
    HeaderMismatch: (2, 422),
    SourceOutsideRoots: (2, 403),
    ConfigurationError: (2, 500),
    DatabaseUnavailable: (4, 503),
    RequestTimedOut: (4, 503),
    InvalidArgument: (2, 422),
    NotAuthenticated: (2, 401),
    TooManyFailures: (2, 429),
    Forbidden: (2, 403),
    NotFound: (2, 404),
    BadRequestBody: (2, 422),
    BatchSizeError: (2, 422),
    UnsupportedMediaType: (2, 415),
    PayloadTooLarge: (2, 413),
    IdempotencyConflict: (2, 409),
    BackupCorrupt: (6, 422),
    BackupRowsInvalid: (6, 422),
    RestoreWouldBreakReferences: (6, 409),
    # The server's own folders: nothing an API client can change.
    StorageError: (7, 500),
    RunPartlyLoaded: (8, 500),
    LoadFailed: (5, 500),
}


def listed_as(error: BaseException | type[BaseException]) -> type[HrdataError]:
    """The row of ANSWERS that `error` (an exception or its class) is: its class, or the
    nearest listed base; HrdataError for an exception hrdata did not raise on purpose."""
    kind = error if isinstance(error, type) else type(error)
    for cls in kind.__mro__:
        if issubclass(cls, HrdataError) and cls in ANSWERS:
            return cls
    return HrdataError


def exit_code(error: BaseException | type[BaseException]) -> int:
    """The exit code of a command that ends with `error` (an exception or its class)."""
    return ANSWERS[listed_as(error)][0]


def http_status(error: BaseException | type[BaseException]) -> int:
    """The HTTP status of an API answer that is `error` (an exception or its class)."""
    return ANSWERS[listed_as(error)][1]


# Reason codes -------------------------------------------------------------------------------


class Code:
    """Every reason code, once: a rejected row's `Reason.code`, or the key a skipped row is
    counted under. Clients, logs and stored rejects hold these strings: never change one."""

    # A value the dictionary's rules refuse (dictionary/types.py).
    MISSING: Final = "missing"  # empty, or blank once trimmed
    NOT_AN_INTEGER: Final = "not_an_integer"
    OUT_OF_RANGE: Final = "out_of_range"  # an id or an instant beyond what its column holds
    UNKNOWN_REFERENCE: Final = "unknown_reference"  # an id its referenced table does not hold
    TOO_LONG: Final = "too_long"  # a name over its column's max_length
    CONTROL_CHARACTER: Final = "control_character"
    INVALID_UTF8: Final = "invalid_utf8"  # bytes, or a JSON lone surrogate, that are not UTF-8
    INVALID_DATETIME: Final = "invalid_datetime"  # not ISO 8601 date and time at all
    MISSING_OFFSET: Final = "missing_offset"  # a datetime without Z or +hh:mm
    IMPOSSIBLE_DATETIME: Final = "impossible_datetime"  # a date that does not exist (Feb 30)
    WRONG_TYPE: Final = "wrong_type"  # a JSON value neither a string nor of the column's kind
    UNTRIMMED: Final = "untrimmed"  # restored text with blanks at its ends, which no way in keeps

    # A CSV line that cannot be split into a row (csvfile.py, ingest/validate.py).
    LINE_TOO_LONG: Final = "line_too_long"  # over HRDATA_MAX_LINE_BYTES
    UNBALANCED_QUOTES: Final = "unbalanced_quotes"  # a quoted field not closed on its line
    WRONG_FIELD_COUNT: Final = "wrong_field_count"

    # A JSON row of an API batch that is not a row of the table (ingest/batch.py).
    NOT_AN_OBJECT: Final = "not_an_object"
    DUPLICATE_FIELD: Final = "duplicate_field"  # a key given twice in one row
    UNKNOWN_FIELD: Final = "unknown_field"  # a key that is not a column

    # A row that contradicts one stored or read before it (ingest/loader.py).
    NAME_TAKEN: Final = "name_taken"  # a name another id holds, ignoring case
    CONFLICT: Final = "conflict"  # an id stored already, with other values
    DUPLICATE_CONFLICT: Final = "duplicate_conflict"  # an id earlier in the source, other values

    # Why a row is skipped, not rejected: it is there already, identical (ingest/loader.py).
    ALREADY_PRESENT: Final = "already_present"  # stored in the table
    DUPLICATE_IN_SOURCE: Final = "duplicate_in_source"  # earlier in the same source
