"""The shared Jinja2 environment: escaping, strictness, layout, error pages."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from jinja2 import UndefinedError

from privacyops.web import templating


def test_everything_is_escaped_whatever_the_template() -> None:
    template = templating.environment().from_string("<p>{{ text }}</p>")

    assert template.render(text='<script>alert("x")</script>') == (
        "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>"
    )


def test_a_missing_variable_fails_instead_of_printing_nothing() -> None:
    template = templating.environment().from_string("{{ missing }}")

    with pytest.raises(UndefinedError):
        template.render()


@pytest.mark.parametrize(
    ("value", "text"),
    [(date(2024, 7, 31), "July 31, 2024"), (date(2026, 1, 5), "January 5, 2026"), (None, "")],
)
def test_long_date(value: date | None, text: str) -> None:
    assert templating.long_date(value) == text


def test_error_page_is_html_with_the_layout() -> None:
    # Its security headers come from the app's middleware: tests/web/test_security_headers.py.
    response = templating.error_page(404, "Not <found>", "No <b>such</b> page.")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    body = bytes(response.body).decode()
    assert "<title>Not &lt;found&gt; · Privacy Center</title>" in body
    assert "<h1>Not &lt;found&gt;</h1>" in body
    assert "<p>No &lt;b&gt;such&lt;/b&gt; page.</p>" in body
    assert '<link rel="stylesheet" href="/static/site.css">' in body
    assert '<a class="brand" href="/">Privacy Center</a>' in body


def test_layout_marks_the_current_page_in_the_navigation() -> None:
    html = templating.render_text("error.html", error_title="t", message="m", nav_current="policy")

    assert '<li><a href="/policy" aria-current="page">Privacy Policy</a></li>' in html
    assert '<li><a href="/">Home</a></li>' in html


def test_site_name_titles_the_header() -> None:
    html = templating.render_text("error.html", error_title="t", message="m", site_name="Shop & Co")

    assert 'Shop &amp; Co <span class="brand-sub">Privacy Center</span>' in html


def test_stylesheet_is_served_and_loads_nothing_external(client: TestClient) -> None:
    response = client.get("/static/site.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "url(" not in response.text
    assert "@import" not in response.text
