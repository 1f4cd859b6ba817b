"""The charts as SVG elements, drawn by an autoescaping template: every name is escaped."""

from __future__ import annotations

from markupsafe import Markup

from hrdata.metrics.report.chart import MEAN_COLOUR, Chart
from hrdata.metrics.report.templating import templates

# The page's charts use the reader's own sans-serif; the PDF passes its font instead.
HTML_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def chart_svg(chart: Chart, font: str = HTML_FONT, standalone: bool = False) -> Markup:
    """The chart as an SVG element, every name escaped.

    `standalone` is for fpdf2: it adds the SVG namespace an XML parser needs (HTML does without)
    and leaves out the tooltips (`<title>`), which fpdf2 does not draw and warns about.
    """
    template = templates().get_template("chart.svg.j2")
    return Markup(
        template.render(chart=chart, font=font, standalone=standalone, mean_colour=MEAN_COLOUR)
    )
