"""The report as one HTML5 page: the headline, both charts twice (wide and narrow), the
departments above the mean and the department and job table."""

from __future__ import annotations

from hrdata.metrics.report import wording
from hrdata.metrics.report.breakdown import department_groups, year_totals
from hrdata.metrics.report.chart import NARROW, mean_chart, quarters_chart
from hrdata.metrics.report.snapshot import Report
from hrdata.metrics.report.svg import chart_svg
from hrdata.metrics.report.templating import templates


def render_html(report: Report, controls: bool = False) -> str:
    """The report as one HTML5 document that needs no network and no JavaScript.

    `controls` adds the year/mean form and the sign-out button of the page the service serves.
    """
    hiring = wording.has_hires(report)
    # Each chart twice, laid out wide and narrow; the style sheet shows the one that fits.
    charts = [
        (heading, chart_svg(make(report)), chart_svg(make(report, NARROW)))
        for heading, make in (
            (wording.QUARTERS_HEADING, quarters_chart),
            (wording.MEAN_HEADING, mean_chart),
        )
    ]
    groups = department_groups(report)
    template = templates().get_template("report.html.j2")
    return template.render(
        report=report,
        controls=controls,
        hiring=hiring,
        no_hires=wording.no_hires(report),
        data_line=wording.data_line(report),
        headline=wording.headline(report),
        mean_text=wording.mean_text(report),
        mean_meaning=wording.mean_meaning(report),
        departments=wording.department_labels(report),
        groups=groups,
        totals=year_totals(groups),
        charts=charts if hiring else [],
    )
