"""The two hiring metrics against the original export, with expected values computed here
from the CSV files in plain Python, and their edge cases."""

from __future__ import annotations

import psycopg
import pytest

from hrdata.ingest.migrate import migrate
from hrdata.metrics.queries import (
    MeanOver,
    QuarterRow,
    departments_above_mean,
    hires_by_quarter,
)
from hrdata.settings import Settings
from tests.support.challenge import expected_above_mean, expected_quarters
from tests.support.paths import CHALLENGE


@pytest.fixture
def loaded(settings: Settings, db: psycopg.Connection) -> None:
    migrate(settings, [str(CHALLENGE)])


def test_hires_by_quarter_match_the_export(db: psycopg.Connection, loaded: None) -> None:
    assert expected_quarters(2021) == hires_by_quarter(db, 2021)


@pytest.mark.parametrize("mean_over", ["all", "hiring"])
def test_departments_above_the_mean_match_the_export(
    db: psycopg.Connection, loaded: None, mean_over: MeanOver
) -> None:
    assert expected_above_mean(2021, mean_over) == departments_above_mean(db, 2021, mean_over)


@pytest.fixture
def small(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'A'), (2, 'B'), (3, 'C'), (4, 'D')")
    db.execute("INSERT INTO jobs VALUES (1, 'Clerk')")


def hire(db: psycopg.Connection, employee: int, department: int, when: str) -> None:
    db.execute(
        "INSERT INTO hired_employees VALUES (%s, 'x', %s, %s, 1)", (employee, when, department)
    )


def test_a_year_without_hires_gives_empty_metrics(db: psycopg.Connection, small: None) -> None:
    hire(db, 1, 1, "2020-05-01T00:00:00Z")

    assert ([], []) == (hires_by_quarter(db, 2021), departments_above_mean(db, 2021))


def test_departments_exactly_at_the_mean_are_not_above_it(
    db: psycopg.Connection, small: None
) -> None:
    # A 2, B 2, C 0, D 0. Over hiring departments the mean is 2: A and B sit on it.
    for employee, department in enumerate([1, 1, 2, 2], start=1):
        hire(db, employee, department, "2021-01-01T00:00:00Z")

    assert ([1, 2], []) == (
        [r.id for r in departments_above_mean(db, 2021, "all")],
        [r.id for r in departments_above_mean(db, 2021, "hiring")],
    )


def test_mean_over_all_and_over_hiring_differ(db: psycopg.Connection, small: None) -> None:
    # A 3, B 1, C 2, D 0: mean over all = 1.5 -> A and C above; over hiring = 2 -> only A.
    for employee, department in enumerate([1, 1, 1, 2, 3, 3], start=1):
        hire(db, employee, department, "2021-06-01T00:00:00Z")

    assert ([1, 3], [1]) == (
        [r.id for r in departments_above_mean(db, 2021, "all")],
        [r.id for r in departments_above_mean(db, 2021, "hiring")],
    )


def test_department_hiring_only_in_other_years_counts_zero_under_all(
    db: psycopg.Connection, small: None
) -> None:
    # 2021: A 2, B 1; C only in 2020. Over all four: mean 0.75 -> A and B. Over hiring: 1.5 -> A.
    hire(db, 1, 1, "2021-01-01T00:00:00Z")
    hire(db, 2, 1, "2021-01-01T00:00:00Z")
    hire(db, 3, 2, "2021-01-01T00:00:00Z")
    hire(db, 4, 3, "2020-12-31T23:59:59Z")

    assert ([1, 2], [1]) == (
        [r.id for r in departments_above_mean(db, 2021, "all")],
        [r.id for r in departments_above_mean(db, 2021, "hiring")],
    )


def test_quarters_follow_the_utc_instant(db: psycopg.Connection, small: None) -> None:
    hire(db, 1, 1, "2021-04-01T01:00:00+02:00")  # 2021-03-31T23:00Z: Q1
    hire(db, 2, 1, "2021-12-31T23:30:00-01:00")  # 2022-01-01T00:30Z: not 2021

    assert [QuarterRow(1, "A", 1, "Clerk", 1, 0, 0, 0)] == hires_by_quarter(db, 2021)


def test_counts_come_back_as_integers(db: psycopg.Connection, small: None) -> None:
    hire(db, 1, 1, "2021-05-01T00:00:00Z")

    quarter = hires_by_quarter(db, 2021)[0]
    department = departments_above_mean(db, 2021)[0]

    assert {int} == {type(v) for v in (quarter.q1, quarter.q2, quarter.q3, quarter.q4)}
    assert int is type(department.hired)
