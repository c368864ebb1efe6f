"""The Perbup SLA rules page renders the rules and versions it is given, escaped, in both
languages, with the editor prefilled with the rules in force."""

import json
import re
from html import unescape

from maps.rules_page import render_rules_page

RULES = {"kode_kab": "51.06", "version": 2, "effective_from": "2026-06-30T16:00:00Z",
         "reference": "Perbup <Bangli> No. 1",
         "default": {"start": "received", "limit_min": 120, "judge": "each", "ack_min": 10},
         "rules": [{"agency": "DAMKAR", "categories": ["fire"], "start": "received",
                    "limit_min": 15, "judge": "p90"},
                   {"kind": "public_service", "start": "notified", "limit_min": 2880,
                    "judge": "each"}]}
VERSIONS = [{"version": 2, "effective_from": "2026-06-30T16:00:00Z", "reference": "x",
             "rules": 2, "created_at": "2026-06-01T00:00:00Z", "created_by": "admin"}]


def test_rules_and_editor_in_bahasa_indonesia():
    html = render_rules_page(kode_kab="51.06", rule_set=RULES, versions=VERSIONS)
    assert "Aturan SLA (Perbup)" in html and "laporan diterima" in html
    assert "persentil 90" in html and "semua lainnya" in html
    assert "Perbup &lt;Bangli&gt; No. 1" in html and "<Bangli>" not in html
    draft = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    doc = json.loads(unescape(draft))
    assert doc["default"]["limit_min"] == 120 and doc["rules"][0]["judge"] == "p90"
    assert 'data-endpoint="/api/v1/rules/51.06"' in html


def test_english_and_no_rules_yet():
    html = render_rules_page(kode_kab="99.01", rule_set=None, versions=[], lang="en")
    assert "SLA rules (Perbup)" in html and "No rules yet." in html
    assert "Aturan SLA" in render_rules_page(kode_kab="99.01", rule_set=None, versions=[],
                                             lang="xx")
