"""The visual report of the two hiring metrics: a self-contained HTML page and an A4 PDF.

Both outputs draw the same two SVG charts, built here from the query results: the HTML page
inlines them, the PDF embeds them through fpdf2's SVG support. Names are user data: the
templates autoescape everything, and the SVG is rendered by the same autoescaping templates.
Bars and rows are keyed by department and job id, so two departments with one name never
merge; such a name is shown with its id (`labels.distinct_labels`).

From the figures to the page: `snapshot` reads them, `wording` and `breakdown` say them,
`chart` lays out the charts and `svg` draws them; `html` and `pdf` put it all together (`pdf`
with the font of `pdf_font`).
"""

from hrdata.metrics.report.html import render_html
from hrdata.metrics.report.pdf import render_pdf
from hrdata.metrics.report.snapshot import Report, build_report

__all__ = ["Report", "build_report", "render_html", "render_pdf"]
