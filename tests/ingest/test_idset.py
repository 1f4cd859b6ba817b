"""IdSet: a set of ids kept as a sparse bitmap."""

from __future__ import annotations

from hrdata.ingest.idset import IdSet


def test_add_reports_whether_the_id_was_new() -> None:
    ids = IdSet()

    assert [True, True, False] == [ids.add(7), ids.add(2_147_483_647), ids.add(7)]


def test_membership_matches_a_python_set() -> None:
    values = [1, 8, 65_535, 65_536, 1 << 30, 2_147_483_647]
    ids = IdSet(values)

    assert [v in ids for v in (*values, 2, 65_537, 0, "1")] == [True] * 6 + [False] * 4


def test_iterates_in_order_and_counts() -> None:
    ids = IdSet([70_000, 3, 9, 3])

    assert ([3, 9, 70_000], 3) == (list(ids), len(ids))


def test_discard_removes_an_id_and_ignores_one_not_there() -> None:
    ids = IdSet([3, 70_000])

    ids.discard(3)
    ids.discard(5)

    assert (False, True, 1) == (3 in ids, 70_000 in ids, len(ids))
