"""The two hiring metrics: hires counted by triggers (`counts`), the queries that read them
(`queries`) and the labels people see (`labels`).

What other packages may use is named here. The visual report is the subpackage
`hrdata.metrics.report`, with a face of its own; it is not imported here, because it loads
jinja2 and fpdf2, which every other user of the metrics does without.
"""

from hrdata.metrics import counts
from hrdata.metrics.labels import distinct_labels
from hrdata.metrics.queries import (
    DataState,
    DepartmentRow,
    MeanOver,
    QuarterRow,
    data_state,
    departments_against_mean,
    hires_by_quarter,
    snapshot,
)

__all__ = [
    "DataState",
    "DepartmentRow",
    "MeanOver",
    "QuarterRow",
    "counts",
    "data_state",
    "departments_against_mean",
    "distinct_labels",
    "hires_by_quarter",
    "snapshot",
]
