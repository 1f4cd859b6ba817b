"""The figures of one report, read together: both metrics, the year before's hires and the
state of the data, as one consistent snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from hrdata.dictionary import HIRE_YEARS
from hrdata.metrics.queries import (
    AgainstMean,
    DataState,
    MeanOver,
    data_state,
    departments_against_mean,
    hires_by_quarter,
    hires_in_year,
    snapshot,
)
from hrdata.wire import QuarterRow


@dataclass(frozen=True)
class Report:
    """Both metrics for one year and the state of the data they were read from."""

    year: int
    mean_over: MeanOver
    quarters: list[QuarterRow]
    against: AgainstMean
    state: DataState
    generated_at: datetime  # timezone-aware UTC
    previous_hires: int | None = None  # in the year before; None when no year comes before


def build_report(conn: psycopg.Connection, year: int, mean_over: MeanOver = "all") -> Report:
    """Both metrics, the year before's hires and the data state, read in one REPEATABLE READ,
    READ ONLY snapshot.

    `conn` may be in autocommit mode or idle; it must not be inside a transaction already.
    """
    # Four statements, one snapshot: the headline, the tables and the data line always agree.
    with snapshot(conn):
        quarters = hires_by_quarter(conn, year)
        against = departments_against_mean(conn, year, mean_over)
        previous = hires_in_year(conn, year - 1) if year > HIRE_YEARS[0] else None
        state = data_state(conn)
    return Report(year, mean_over, quarters, against, state, datetime.now(UTC), previous)
