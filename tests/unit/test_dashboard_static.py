"""The dashboard's static files and templates: the htmx pin, and no inline code for the CSP to block."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from app.dashboard.views import HTMX_FILE, STATIC_DIR, TEMPLATES_DIR

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
TEMPLATES = sorted(TEMPLATES_DIR.rglob("*.html"))


def test_vendored_htmx_is_the_pinned_file():
    assert HTMX_FILE == "htmx-2.0.11.min.js"
    assert hashlib.sha256((STATIC_DIR / HTMX_FILE).read_bytes()).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (STATIC_DIR / "README.md").read_text()


def test_only_one_htmx_is_shipped():
    assert [p.name for p in STATIC_DIR.glob("htmx*")] == [HTMX_FILE]


def test_htmx_is_configured_for_a_strict_csp():
    base = (TEMPLATES_DIR / "base.html").read_text()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", base).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert config["allowScriptTags"] is False and config["selfRequestsOnly"] is True
    assert config["historyCacheSize"] == 0


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_templates_have_no_inline_code_and_no_unescaped_output(template: Path):
    text = template.read_text()
    assert not re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", text)
    assert not re.findall(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.findall(r"\sstyle\s*=", text), "inline style"
    assert not re.findall(r"\bhx-on\b|hx-on:|js:|javascript:", text)
    assert "|safe" not in text and "autoescape false" not in text and "Markup(" not in text


def test_no_network_resources_in_templates_or_styles():
    for path in [*TEMPLATES, STATIC_DIR / "app.css"]:
        assert not re.findall(r"https?://", path.read_text()), path
