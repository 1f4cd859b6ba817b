"""The report's Jinja templates (templates/): the page, its base and the chart."""

from __future__ import annotations

from functools import cache

import jinja2

from hrdata.dictionary import HIRE_YEARS


@cache
def templates() -> jinja2.Environment:
    """The environment every report template renders in, autoescaped and strict."""
    # Autoescape for every template, SVG included: names never become markup.
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("hrdata.metrics.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["years"] = HIRE_YEARS
    return environment
