"""`hrdata report`: the hiring metrics report written as HTML or PDF."""

from __future__ import annotations

from pathlib import Path

import click

from hrdata.cli.context import database
from hrdata.cli.output import say
from hrdata.dictionary import HIRE_YEARS


@click.command()
@click.option("--year", default=2021, show_default=True, type=click.IntRange(*HIRE_YEARS))
@click.option(
    "--mean-over",
    type=click.Choice(["all", "hiring"]),
    default="all",
    show_default=True,
    help="all: every department (0 for none hired); hiring: those that hired in the year.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf"]),
    help="Default: from --out's suffix, else html.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: report.html or report.pdf).",
)
def report(year: int, mean_over: str, fmt: str | None, out: Path | None) -> None:
    """Write the hiring metrics report: one self-contained HTML file with charts, or a PDF."""
    from hrdata.folders import write_file
    from hrdata.metrics.report import build_report, render_html, render_pdf

    fmt = fmt or ("pdf" if out is not None and out.suffix.lower() == ".pdf" else "html")
    out = out or Path(f"report.{fmt}")
    with database() as conn:
        built = build_report(conn, year, "hiring" if mean_over == "hiring" else "all")
    write_file(out, render_pdf(built) if fmt == "pdf" else render_html(built).encode())
    say(f"report for {year} written to {out}")
