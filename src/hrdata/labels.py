"""Names as the metrics show them to people: a name that several ids share gets its id.

Rows are keyed by id everywhere; a label only has to tell apart what a reader would take for
one name, so `Legal` stays `Legal` until another department is also called `Legal` (or
` LEGAL`: names compared as the dictionary's `name_taken` rule compares them), and then both
read `Legal (#11)` and `Legal (#13)`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from hrdata.dictionary import name_key


def distinct_labels(named: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Each id's label: its name, followed by ` (#id)` when another id's name is the same
    by `name_key` (trimmed, case folded: the `name_taken` rule)."""
    names = dict(named)
    ids_by_name: defaultdict[str, set[int]] = defaultdict(set)
    for key, name in names.items():
        ids_by_name[name_key(name)].add(key)
    return {
        key: f"{name} (#{key})" if len(ids_by_name[name_key(name)]) > 1 else name
        for key, name in names.items()
    }
