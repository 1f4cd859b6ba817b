"""The sign-in page of the served report: the API's form (templates/login.html.j2) on the
report's page (its base.html.j2), so that signing in looks like the page it leads to."""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def _templates() -> jinja2.Environment:
    # Autoescaped like the report's own templates: the message may quote what a user typed.
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("hrdata.api", "templates"),
            jinja2.PackageLoader("hrdata.metrics.report", "templates"),
        ]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_login(message: str | None = None) -> str:
    """The sign-in page of the served report, with `message` (escaped) when there is one."""
    return _templates().get_template("login.html.j2").render(message=message)
