"""The two hiring metrics: hires counted by triggers (`counts`) and the queries that read them
(`queries`); their rows are messages (`hrdata.wire`).

What other packages may use is named here. The visual report is the subpackage
`hrdata.metrics.report`, with a face of its own; it is listed but not imported here, because
it loads jinja2 and fpdf2, which every other user of the metrics does without.
"""

from hrdata.metrics import counts
from hrdata.metrics.queries import (
    DataState,
    MeanOver,
    data_state,
    departments_against_mean,
    hires_by_quarter,
    snapshot,
)
from hrdata.wire import DepartmentRow, QuarterRow

__all__ = [
    "DataState",
    "DepartmentRow",
    "MeanOver",
    "QuarterRow",
    "counts",
    "data_state",
    "departments_against_mean",
    "hires_by_quarter",
    "report",
    "snapshot",
]
