"""Hires counted per quarter, department and job: what the metrics read instead of every row.

Statement-level triggers on hired_employees append one row per statement to
hire_count_deltas: what the statement added (or, with sign -1, removed) as arrays of hire
moments, departments and jobs. A small statement (an API batch) stores its rows as they are: one
insert, nothing grouped, so a batch pays little; a large one (a migration file, a restore)
stores them grouped by quarter with counts, so memory stays bounded. No existing row is touched,
so writers never wait on each other. `fold` moves the deltas into hire_counts from time to time.
Readers add both tables, so a count is exact the moment a write commits, whatever path wrote it
(API, migration, restore, psql). The triggers fire ALWAYS, also when a loader turns per-row
reference triggers off.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import LiteralString

import psycopg
from psycopg import sql

from hrdata.errors import first_line

log = logging.getLogger(__name__)

# A hire's moment as a UTC wall-clock timestamp, and the quarter of such a moment (its first
# day): the one definition of quarters. Deltas store moments in UTC already.
UTC = sql.SQL("({} AT TIME ZONE 'UTC')")
QUARTER = sql.SQL("date_trunc('quarter', {})::date")
HIRED_AT = UTC.format(sql.Identifier("datetime"))  # a hired_employees row's moment
HIRE_QUARTER = QUARTER.format(HIRED_AT)  # and its quarter
UNNESTED_QUARTER = QUARTER.format(sql.Identifier("u", "moment"))  # the quarter of a delta's hire

# Every change to the counts locks the one hire_count_state row first, then the deltas, then the
# counts: one order, so a fold, a truncate and a parent's change never deadlock.
_TOUCH_STATE = sql.SQL("""
    INSERT INTO hire_count_state AS s (one, changed_at, folded_hires)
    VALUES (true, clock_timestamp(), {folded})
    ON CONFLICT (one) DO UPDATE SET changed_at = clock_timestamp(), folded_hires = {kept}
""")


def _trigger_function(name: str, body: sql.Composable) -> sql.Composed:
    # SECURITY DEFINER: a role that may write hired_employees needs no rights on the counts.
    return sql.SQL("""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
        BEGIN
            {body};
            RETURN NULL;
        END $fn$""").format(name=sql.Identifier(name), body=body)


# Statements up to this many rows store them ungrouped; larger ones group by quarter.
PACK_LIMIT = 5000

_APPEND = sql.SQL(
    "INSERT INTO hire_count_deltas (sign, rows, moments, department_ids, job_ids, hires) "
)


def _delta(rows: str, sign: int) -> sql.Composed:
    """Append the change of transition table `rows`, counted with `sign`."""
    return sql.SQL("""
        IF (SELECT count(*) FROM (SELECT FROM {rows} LIMIT {over}) AS s) <= {limit}
        THEN
            {append}
            SELECT {sign}, count(*), array_agg({moment}), array_agg(department_id),
                   array_agg(job_id), NULL
            FROM {rows} HAVING count(*) > 0;
        ELSE
            {append}
            SELECT {sign}, sum(n), array_agg(q), array_agg(d), array_agg(j), array_agg(n)
            FROM (
                SELECT date_trunc('quarter', {moment}) AS q, department_id AS d, job_id AS j,
                       count(*)::int AS n
                FROM {rows} GROUP BY 1, 2, 3
            ) AS grouped;
        END IF""").format(
        rows=sql.Identifier(rows),
        over=sql.Literal(PACK_LIMIT + 1),
        limit=sql.Literal(PACK_LIMIT),
        append=_APPEND,
        sign=sql.Literal(sign),
        moment=HIRED_AT,
    )


def _trigger(
    name: str, event: LiteralString, table: str, function: str, referencing: LiteralString = ""
) -> tuple[sql.Composed, sql.Composed]:
    trigger, on = sql.Identifier(name), sql.Identifier(table)
    return (
        sql.SQL(
            "CREATE TRIGGER {} AFTER {} ON {} {} FOR EACH STATEMENT EXECUTE FUNCTION {}()"
        ).format(trigger, sql.SQL(event), on, sql.SQL(referencing), sql.Identifier(function)),
        sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(on, trigger),
    )


# hire_counts: every fold updates most of its rows; room in each page keeps updates HOT.
_HIRE_COUNTS: tuple[sql.SQL | sql.Composed, ...] = (
    sql.SQL("""CREATE TABLE hire_counts (
        quarter date NOT NULL,
        department_id integer NOT NULL,
        job_id integer NOT NULL,
        hires integer NOT NULL,
        PRIMARY KEY (quarter, department_id, job_id)
    ) WITH (fillfactor = 50)"""),
    # Rows come and go all day: vacuum it by row count, not by a fraction of a tiny table.
    # `hires` is NULL when each moment is one hire. EXTERNAL: arrays stored out of line as
    # they are; compressing them cost a batch more than it saved.
    sql.SQL("""CREATE TABLE hire_count_deltas (
        sign smallint NOT NULL CHECK (sign IN (-1, 1)),
        rows integer NOT NULL,
        moments timestamp[] NOT NULL,
        department_ids integer[] NOT NULL,
        job_ids integer[] NOT NULL,
        hires integer[],
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
    ) WITH (autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0)"""),
    sql.SQL("""ALTER TABLE hire_count_deltas
        ALTER moments SET STORAGE EXTERNAL, ALTER department_ids SET STORAGE EXTERNAL,
        ALTER job_ids SET STORAGE EXTERNAL, ALTER hires SET STORAGE EXTERNAL"""),
    sql.SQL("""CREATE TABLE hire_count_state (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        changed_at timestamptz,
        folded_hires bigint NOT NULL DEFAULT 0
    )"""),
    _trigger_function("hrdata_hires_inserted", _delta("new_rows", 1)),
    _trigger_function("hrdata_hires_deleted", _delta("old_rows", -1)),
    _trigger_function(
        "hrdata_hires_updated",
        sql.SQL(";").join([_delta("new_rows", 1), _delta("old_rows", -1)]),
    ),
    _trigger_function(
        "hrdata_hires_truncated",
        sql.SQL("{}; DELETE FROM hire_count_deltas; DELETE FROM hire_counts").format(
            _TOUCH_STATE.format(folded=sql.Literal(0), kept=sql.Literal(0))
        ),
    ),
    _trigger_function(
        "hrdata_names_changed",
        _TOUCH_STATE.format(folded=sql.Literal(0), kept=sql.Identifier("s", "folded_hires")),
    ),
    *_trigger(
        "hire_counts_inserted",
        "INSERT",
        "hired_employees",
        "hrdata_hires_inserted",
        "REFERENCING NEW TABLE AS new_rows",
    ),
    *_trigger(
        "hire_counts_deleted",
        "DELETE",
        "hired_employees",
        "hrdata_hires_deleted",
        "REFERENCING OLD TABLE AS old_rows",
    ),
    *_trigger(
        "hire_counts_updated",
        "UPDATE",
        "hired_employees",
        "hrdata_hires_updated",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
    *_trigger("hire_counts_truncated", "TRUNCATE", "hired_employees", "hrdata_hires_truncated"),
    # The metrics show department and job names: renaming one changes them too.
    *_trigger(
        "hire_counts_names",
        "INSERT OR UPDATE OR DELETE OR TRUNCATE",
        "departments",
        "hrdata_names_changed",
    ),
    *_trigger(
        "hire_counts_names",
        "INSERT OR UPDATE OR DELETE OR TRUNCATE",
        "jobs",
        "hrdata_names_changed",
    ),
    # Count what is already there, with writers held off until the triggers are in place.
    sql.SQL("LOCK TABLE hired_employees IN SHARE MODE"),
    sql.SQL("""INSERT INTO hire_counts
        SELECT {}, department_id, job_id, count(*)
        FROM hired_employees GROUP BY 1, 2, 3""").format(HIRE_QUARTER),
    sql.SQL("""INSERT INTO hire_count_state (changed_at, folded_hires)
        SELECT now(), coalesce(sum(hires), 0) FROM hire_counts"""),
)
# Made together, when hire_counts is missing: the counts, their deltas and their state.
DDL: dict[str, tuple[sql.SQL | sql.Composed, ...]] = {"hire_counts": _HIRE_COUNTS}

_UNNEST = sql.SQL(
    "unnest(d.moments, d.department_ids, d.job_ids, d.hires) "
    "AS u(moment, department_id, job_id, hires)"
)

# The year's hires as (quarter, department_id, job_id, hires) rows, to be summed: the folded
# counts plus every delta not yet folded. Exact at every commit.
CURRENT = sql.SQL("""
SELECT quarter, department_id, job_id, hires FROM hire_counts
WHERE quarter >= make_date(%(year)s, 1, 1) AND quarter < make_date(%(year)s + 1, 1, 1)
UNION ALL
SELECT {quarter}, u.department_id, u.job_id,
       d.sign * coalesce(u.hires, 1)
FROM hire_count_deltas d, {unnest}
WHERE u.moment >= make_timestamp(%(year)s, 1, 1, 0, 0, 0)
  AND u.moment < make_timestamp(%(year)s + 1, 1, 1, 0, 0, 0)
""").format(quarter=UNNESTED_QUARTER, unnest=_UNNEST)

# The same relation counted from hired_employees itself: what CURRENT must always equal.
RECOUNTED = sql.SQL("""
SELECT {} AS quarter, department_id, job_id, 1 AS hires
FROM hired_employees
WHERE datetime >= make_timestamptz(%(year)s, 1, 1, 0, 0, 0, 'UTC')
  AND datetime < make_timestamptz(%(year)s + 1, 1, 1, 0, 0, 0, 'UTC')
""").format(HIRE_QUARTER)

STATE = """
SELECT
    coalesce((SELECT folded_hires FROM hire_count_state), 0)
        + (SELECT coalesce(sum(sign * rows), 0) FROM hire_count_deltas),
    (SELECT count(*) FROM departments),
    (SELECT count(*) FROM jobs),
    greatest(
        (SELECT changed_at FROM hire_count_state),
        (SELECT max(changed_at) FROM hire_count_deltas)
    )
"""

_FOLD = sql.SQL("""
WITH moved AS (
    DELETE FROM hire_count_deltas RETURNING *
), folded AS (
    INSERT INTO hire_counts AS c
    SELECT {quarter}, u.department_id, u.job_id,
           sum(d.sign * coalesce(u.hires, 1))
    FROM moved d, {unnest}
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (quarter, department_id, job_id) DO UPDATE SET hires = c.hires + excluded.hires
)
UPDATE hire_count_state SET
    changed_at = greatest(changed_at, (SELECT max(changed_at) FROM moved)),
    folded_hires = folded_hires
        + (SELECT coalesce(sum(sign * rows), 0) FROM moved)
RETURNING (SELECT count(*) FROM moved)
""").format(quarter=UNNESTED_QUARTER, unnest=_UNNEST)


def fold(conn: psycopg.Connection) -> int:
    """Move the deltas into hire_counts; the number of delta rows moved (0 when another
    session holds the counts: a fold, a restore). Commits, then vacuums the deltas."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO hire_count_state (changed_at) VALUES (NULL) ON CONFLICT DO NOTHING"
        )
        if conn.execute("SELECT FROM hire_count_state FOR UPDATE SKIP LOCKED").fetchone() is None:
            return 0
        row = conn.execute(_FOLD).fetchone()
        moved = int(row[0]) if row else 0
        if moved:
            conn.execute("DELETE FROM hire_counts WHERE hires = 0")
    if moved and conn.autocommit:
        # Readers scan the deltas: free the moved rows' space now rather than at autovacuum.
        # A role that does not own the table gets a warning and leaves it to autovacuum.
        conn.execute("VACUUM hire_count_deltas")
    return moved


def state(conn: psycopg.Connection) -> tuple[int, int, int, datetime | None]:
    """(hired_employees rows, departments, jobs, time of the latest change) the counts reflect."""
    row = conn.execute(STATE).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), row[3]


def fold_until(stop: threading.Event, url: str, every: float, connect_timeout: int) -> None:
    """Fold every `every` seconds until `stop` is set: what a running service does, so the
    deltas readers add stay few. A database that is away is retried on the next round."""
    conn: psycopg.Connection | None = None
    while not stop.wait(every):
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(
                    url,
                    autocommit=True,
                    connect_timeout=connect_timeout,
                    application_name="hrdata-fold",
                )
            fold(conn)
        except psycopg.Error as exc:
            log.warning("folding hire counts failed", extra={"error": first_line(exc)})
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
