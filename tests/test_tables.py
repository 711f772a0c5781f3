"""niengiam tables: the data dictionary from COMMENT ON, in Vietnamese or English."""

from __future__ import annotations

import json
import re
from pathlib import Path

from niengiam.labels import pick_language
from tests.analyst_helpers import cli
from warehouse.query import reporting_views

pytest_plugins = ["tests.analyst_fixtures"]

VIEWS = Path(__file__).resolve().parents[1] / "warehouse" / "views"
BILINGUAL = re.compile(r"^vi: .+ \| en: .+$")


def _documented_here() -> set[str]:
    """Reporting views created by the shared and the analyst's view files (their comments are ours to keep)."""
    names = set()
    for name in ("020_reporting.sql", "060_analyst.sql"):
        names |= set(re.findall(r"create or replace view reporting\.(\w+)", (VIEWS / name).read_text("utf-8")))
    return names


def test_every_reporting_view_and_column_is_described_in_both_languages(small_warehouse):
    views = {v.name: v for v in reporting_views(small_warehouse.database)}
    ours = _documented_here()
    assert ours <= set(views)
    missing = [name for name, view in views.items() if not (view.comment and BILINGUAL.match(view.comment))]
    assert not missing, f"reporting views without a 'vi: … | en: …' COMMENT ON (add it in 060_analyst.sql): {missing}"
    for name in ours:
        view = views[name]
        assert BILINGUAL.match(view.comment), f"{name}: {view.comment!r}"
        for column, _type, comment in view.columns:
            assert comment and BILINGUAL.match(comment), f"reporting.{name}.{column} lacks a 'vi: … | en: …' comment"


def test_tables_lists_views_with_descriptions_and_columns(small_warehouse):
    vi = cli("tables", "--home", str(small_warehouse.home), "rpt_awards")
    assert vi.exit_code == 0
    lines = vi.stdout.splitlines()
    assert lines[0] == "reporting.rpt_awards"
    assert lines[1].strip() == "Khen thưởng theo năm, hình thức, cấp và đối tượng (tập thể / cá nhân)"
    assert any(line.split()[:2] == ["award_count", "INTEGER"] and line.endswith("Số lượng") for line in lines)
    en = cli("tables", "--home", str(small_warehouse.home), "--lang", "en", "reporting.rpt_awards")
    assert "Awards per year by award, level and recipient kind" in en.stdout
    assert any(line.split()[:2] == ["award_count", "INTEGER"] and line.endswith("Count") for line in en.stdout.splitlines())


def test_all_views_without_columns_and_as_json(small_warehouse):
    names = cli("tables", "--home", str(small_warehouse.home), "--no-columns", "--lang", "en")
    listed = [line for line in names.stdout.splitlines() if line.startswith("reporting.")]
    assert "reporting.observations" in listed and "reporting.submissions" in listed
    assert not any(line.startswith("    ") for line in names.stdout.splitlines())
    doc = json.loads(cli("tables", "--home", str(small_warehouse.home), "--format", "json", "--lang", "en",
                         "observations").stdout)
    assert doc[0]["name"] == "reporting.observations"
    assert {"name": "status", "type": "VARCHAR",
            "description": "Status of the figure: final, preliminary, estimate"} in doc[0]["columns"]


def test_an_unknown_view_names_the_known_ones(small_warehouse):
    result = cli("tables", "--home", str(small_warehouse.home), "rpt_nothing")
    assert result.exit_code == 2
    assert "no reporting view named 'rpt_nothing'" in result.stderr
    assert "rpt_awards" in result.stderr


def test_columns_without_a_comment_fall_back_to_their_label(small_warehouse):
    doc = json.loads(cli("tables", "--home", str(small_warehouse.home), "--format", "json", "--lang", "en",
                         "rpt_revisions").stdout)
    described = {c["name"]: c["description"] for c in doc[0]["columns"]}
    assert described["reference_year"] == "Year"
    assert described["first_value"] == "First published"


def test_pick_language_reads_either_half_and_passes_plain_comments():
    assert pick_language("vi: Số lượng | en: Count", "vi") == "Số lượng"
    assert pick_language("vi: Số lượng | en: Count", "en") == "Count"
    assert pick_language("Plain English only", "vi") == "Plain English only"
    assert pick_language(None, "en") == ""
