"""The hire counts the metrics read: equal to a recount of the rows after any kind of write."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from hrdata.assembly import init_schema
from hrdata.metrics import counts
from hrdata.metrics.queries import (
    MEAN_OVER,
    data_state,
    departments_against_mean,
    hires_by_quarter,
)

YEARS = (2020, 2021, 2022)


def assert_counts_exact(conn: psycopg.Connection) -> None:
    """Both metrics, every year and reading, equal whether from the counts or from the rows."""
    for year in YEARS:
        assert hires_by_quarter(conn, year, counts.RECOUNTED) == hires_by_quarter(conn, year)
        for mean_over in MEAN_OVER:
            assert departments_against_mean(
                conn, year, mean_over, counts.RECOUNTED
            ) == departments_against_mean(conn, year, mean_over)


@pytest.fixture
def parents(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments SELECT i, 'Department ' || i FROM generate_series(1, 5) i")
    db.execute("INSERT INTO jobs SELECT i, 'Job ' || i FROM generate_series(1, 7) i")


def insert_hires(conn: psycopg.Connection, first: int, n: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        (
            first + i,
            f"Person {first + i}",
            start + timedelta(seconds=rng.randrange(3 * 365 * 86400)),
            rng.randint(1, 5),
            rng.randint(1, 7),
        )
        for i in range(n)
    ]
    with conn.cursor().copy("COPY hired_employees FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def test_counts_follow_copy_insert_update_delete_and_truncate(
    db: psycopg.Connection, parents: None
) -> None:
    insert_hires(db, 1, 500, seed=1)
    assert_counts_exact(db)
    db.execute("INSERT INTO hired_employees VALUES (9001, 'x', '2021-03-31T23:59:59Z', 1, 1)")
    db.execute(
        "UPDATE hired_employees SET datetime = datetime + interval '40 days' WHERE id % 3 = 0"
    )
    db.execute("UPDATE hired_employees SET department_id = 2 WHERE id % 5 = 0")
    db.execute("DELETE FROM hired_employees WHERE id % 7 = 0")
    assert_counts_exact(db)
    db.execute("TRUNCATE hired_employees")
    assert_counts_exact(db)
    assert 0 == data_state(db).hired_employees


def test_counts_follow_writes_that_skip_ordinary_triggers(
    db: psycopg.Connection, parents: None
) -> None:
    with db.transaction():
        db.execute("SET LOCAL session_replication_role = replica")
        insert_hires(db, 1, 300, seed=2)
        db.execute("DELETE FROM hired_employees WHERE id < 50")

    assert_counts_exact(db)


def test_a_rolled_back_write_leaves_the_counts_as_they_were(
    db: psycopg.Connection, parents: None
) -> None:
    insert_hires(db, 1, 100, seed=3)
    before = hires_by_quarter(db, 2021)

    with pytest.raises(psycopg.errors.UniqueViolation), db.transaction():
        insert_hires(db, 101, 100, seed=4)
        insert_hires(db, 1, 1, seed=5)

    assert before == hires_by_quarter(db, 2021)
    assert_counts_exact(db)


def test_fold_empties_the_deltas_and_changes_no_answer(
    db: psycopg.Connection, parents: None
) -> None:
    insert_hires(db, 1, 400, seed=6)
    db.execute("DELETE FROM hired_employees WHERE id % 2 = 0")
    before = [hires_by_quarter(db, y) for y in YEARS], data_state(db)

    moved = counts.fold(db)

    assert moved > 0
    assert (0,) == db.execute("SELECT count(*) FROM hire_count_deltas").fetchone()
    assert before == ([hires_by_quarter(db, y) for y in YEARS], data_state(db))
    assert_counts_exact(db)


def test_fold_skips_while_another_session_holds_the_counts(
    db: psycopg.Connection, database_url: str, parents: None
) -> None:
    insert_hires(db, 1, 10, seed=7)
    with psycopg.connect(database_url) as other:
        other.execute("SELECT FROM hire_count_state FOR UPDATE")

        assert 0 == counts.fold(db)


def test_concurrent_writers_and_folds_end_exact(
    db: psycopg.Connection, database_url: str, parents: None
) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                for batch in range(10):
                    with conn.transaction():
                        insert_hires(conn, 1 + (worker * 10 + batch) * 100, 100, seed=batch)
                        if batch % 3 == 0:
                            conn.execute(
                                "DELETE FROM hired_employees WHERE id = %s", (worker * 1000 + 5,)
                            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def fold_repeatedly(stop: threading.Event) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                counts.fold(conn)

    stop = threading.Event()
    folder = threading.Thread(target=fold_repeatedly, args=(stop,))
    folder.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    folder.join()

    assert [] == errors
    assert_counts_exact(db)
    state = data_state(db)
    assert (db.execute("SELECT count(*) FROM hired_employees").fetchone() or (0,))[0] == (
        state.hired_employees
    )


def test_the_state_names_rows_and_moves_the_latest_change_forward(
    db: psycopg.Connection, parents: None
) -> None:
    insert_hires(db, 1, 20, seed=8)
    first = data_state(db)
    counts.fold(db)
    db.execute("UPDATE departments SET department = 'Renamed' WHERE id = 1")
    renamed = data_state(db)
    insert_hires(db, 100, 5, seed=9)
    added = data_state(db)

    assert (20, 5, 7) == (first.hired_employees, first.departments, first.jobs)
    assert 25 == added.hired_employees
    assert first.latest_change is not None and renamed.latest_change is not None
    assert added.latest_change is not None
    assert first.latest_change < renamed.latest_change < added.latest_change


def test_a_schema_made_before_the_counts_gets_them_with_the_rows_already_there(
    db: psycopg.Connection, parents: None
) -> None:
    insert_hires(db, 1, 200, seed=10)
    db.execute("DROP TABLE hire_counts, hire_count_deltas, hire_count_state")
    for table in ("hired_employees", "departments", "jobs"):
        db.execute(f"DROP TRIGGER IF EXISTS hire_counts_inserted ON {table}")
        db.execute(f"DROP TRIGGER IF EXISTS hire_counts_deleted ON {table}")
        db.execute(f"DROP TRIGGER IF EXISTS hire_counts_updated ON {table}")
        db.execute(f"DROP TRIGGER IF EXISTS hire_counts_truncated ON {table}")
        db.execute(f"DROP TRIGGER IF EXISTS hire_counts_names ON {table}")

    init_schema(db)
    insert_hires(db, 1000, 10, seed=11)

    assert_counts_exact(db)
    assert 210 == data_state(db).hired_employees


def test_counts_follow_statements_too_large_to_store_row_by_row(
    db: psycopg.Connection, parents: None
) -> None:
    insert_hires(db, 1, counts.PACK_LIMIT + 500, seed=12)
    grouped = db.execute("SELECT hires IS NOT NULL FROM hire_count_deltas").fetchall()
    assert_counts_exact(db)
    db.execute("UPDATE hired_employees SET job_id = 1 + job_id % 7")
    db.execute("DELETE FROM hired_employees WHERE id > 100")
    assert_counts_exact(db)
    counts.fold(db)

    assert [(True,)] == grouped
    assert_counts_exact(db)
    assert 100 == data_state(db).hired_employees
