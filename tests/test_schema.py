"""The schema derived from the dictionary: created, upgraded, and usable by a plain role."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from hrdata.assembly import feature_table_names, init_schema
from hrdata.dictionary import TABLES, dependency_rank
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.fixture_types import RowsIn
from tests.support.paths import CHALLENGE


def constraints(db: psycopg.Connection, table: str) -> set[str]:
    rows = db.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
        (table,),
    ).fetchall()
    return {r[0] for r in rows}


def test_every_table_comes_after_the_tables_it_references() -> None:
    for table in TABLES:
        for parent in table.parents:
            assert dependency_rank(next(t for t in TABLES if t.name == parent)) < dependency_rank(
                table
            )


def test_employees_table_has_its_keys_and_references(db: psycopg.Connection) -> None:
    found = constraints(db, "hired_employees")

    assert {
        "PRIMARY KEY (id)",
        "FOREIGN KEY (department_id) REFERENCES departments(id) DEFERRABLE",
        "FOREIGN KEY (job_id) REFERENCES jobs(id) DEFERRABLE",
    } <= found


def test_columns_are_not_null_with_the_dictionary_types(db: psycopg.Connection) -> None:
    columns = db.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'hired_employees' ORDER BY ordinal_position"
    ).fetchall()

    assert [
        ("id", "integer", "NO"),
        ("name", "text", "NO"),
        ("datetime", "timestamp with time zone", "NO"),
        ("department_id", "integer", "NO"),
        ("job_id", "integer", "NO"),
    ] == columns


def test_init_adds_a_column_missing_from_an_older_table(db: psycopg.Connection) -> None:
    db.execute("ALTER TABLE jobs DROP COLUMN job")

    init_schema(db)

    columns = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs'"
    ).fetchall()
    assert {("id",), ("job",)} == set(columns)


@pytest.fixture
def plain_role(db: psycopg.Connection) -> Iterator[str]:
    """A login role that owns nothing and may not bypass triggers: only reads and writes rows."""
    role = f"hrdata_plain_{secrets.token_hex(3)}"
    ident = sql.Identifier(role)
    db.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    db.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
    db.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            ident
        )
    )
    db.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident))
    yield role
    db.execute(sql.SQL("DROP OWNED BY {}").format(ident))
    db.execute(sql.SQL("DROP ROLE {}").format(ident))


def test_a_role_without_owner_or_superuser_rights_can_migrate(
    settings: Settings, rows_in: RowsIn, database_url: str, plain_role: str
) -> None:
    url = SecretStr(make_conninfo(database_url, user=plain_role))
    plain = settings.model_copy(update={"database_url": url})

    summary = migrate(plain, [str(CHALLENGE)]).as_dict()

    assert (1930, 69) == (
        summary["tables"]["hired_employees"]["inserted"],
        summary["tables"]["hired_employees"]["rejected"],
    )
    assert 1930 == rows_in("hired_employees")


def test_bookkeeping_tables_never_share_a_name_with_a_dictionary_table() -> None:
    assert set() == set(feature_table_names()) & {t.name for t in TABLES}
