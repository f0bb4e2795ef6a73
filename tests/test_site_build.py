"""`kcdata site build` and `kcdata.site.build_site` on a small real program folder."""

from __future__ import annotations

import copy
import itertools
import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markupsafe import escape as markup_escape
from site_program import HOSTILE, NOW, write_program

from kcdata.errors import FindingsError, InputError
from kcdata.inventory import load_inventory
from kcdata.jsonable import to_jsonable
from kcdata.site import MARKER, build_site


@pytest.fixture
def program(tmp_path: Path) -> Path:
    return write_program(tmp_path / "program")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attr, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("href", "src") and v is not None:
                self.refs.append((tag, k, v))
            if k == "id" and v:
                self.ids.add(v)


def _links(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_every_dataset_gets_a_page_and_a_catalog_entry(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = build_site(root=program, out_dir=out, now=NOW)
    inv = load_inventory(program).inventory
    assert result.datasets == len(inv.datasets) == 6
    index = (out / "index.html").read_text(encoding="utf-8")
    for ds in inv.datasets:
        page = out / "datasets" / f"{ds.id}.html"
        assert page.is_file(), ds.id
        assert f'href="datasets/{ds.id}.html"' in index
        assert f"datasets/{ds.id}.html" in result.pages
    assert (out / "program.html").is_file() and (out / "feed.xml").is_file() and (out / MARKER).is_file()
    assert result.url == (out / "index.html").resolve().as_uri()
    assert '<link rel="alternate" type="application/atom+xml"' in index


def test_links_are_relative_and_resolve(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(root=program, out_dir=out, now=NOW)
    for page in out.rglob("*.html"):
        links = _links(page)
        for tag, attr, value in links.refs:
            if value.startswith(("mailto:", "data:")):
                continue
            if value.startswith(("http://", "https://")):
                # Only outbound links to the portal or a licence: never an asset from elsewhere.
                assert tag == "a", f"{page.name}: external {tag} {attr}={value}"
                continue
            assert not value.startswith("/"), f"{page.name}: absolute link {value}"
            target, _, frag = value.partition("#")
            target = target.partition("?")[0]
            resolved = (page.parent / target).resolve() if target else page
            assert resolved.exists(), f"{page.relative_to(out)}: broken link {value}"
            if frag and resolved == page:
                assert frag in links.ids, f"{page.name}: no #{frag}"


def test_hostile_text_is_escaped(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(root=program, out_dir=out, now=NOW)
    for name in ("index.html", "datasets/dataset-05.html"):
        html = (out / name).read_text(encoding="utf-8")
        assert "<script>alert" not in html, name
        assert "<b>bold</b>" not in html
    page = (out / "datasets/dataset-05.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    index = (out / "index.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="catalog-data">(.*?)</script>', index, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert any(item["description"] == HOSTILE for item in data)
    assert index.count("</script>") == 2  # the JSON block and catalog.js, nothing smuggled in


def test_dataset_page_shows_links_and_justification(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(root=program, out_dir=out, now=NOW)
    published = (out / "datasets/dataset-01.html").read_text(encoding="utf-8")
    assert 'href="https://data.kcmo.org/d/abcd-1234"' in published
    assert "Request this dataset" not in published
    assert "Published" in published and "added 2026 data" in published
    unpublished = (out / "datasets/dataset-02.html").read_text(encoding="utf-8")
    assert "mailto:opendata@example.org?subject=Dataset%20request%3A%20dataset-02" in unpublished
    assert "data.kcmo.org/d/" not in unpublished
    assert "overdue by 57 days" in unpublished
    assert "Monthly" in unpublished
    withheld = (out / "datasets/dataset-04.html").read_text(encoding="utf-8")
    assert "Why this dataset is not fully public" in withheld
    assert "Contains officer personnel records (RSMo 610.021)." in withheld


def test_request_url_from_settings_carries_the_id(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", extra_settings={
        "site": {"request_url": "https://forms.example.org/request?dataset={id}", "hashtag": "#KCData"}})
    build_site(root=root, out_dir=tmp_path / "site", now=NOW)
    page = (tmp_path / "site/datasets/dataset-05.html").read_text(encoding="utf-8")
    assert 'href="https://forms.example.org/request?dataset=dataset-05"' in page


@pytest.mark.parametrize("section", [
    {"request_url": "javascript:alert(1)"},
    {"hashtag": "Open Data KC"},
    {"colour": "red"},
    {"feed_entries": 0},
    "not a mapping",
])
def test_invalid_site_settings_are_input_errors(tmp_path: Path, section: object) -> None:
    root = write_program(tmp_path / "p", extra_settings={"site": section})
    with pytest.raises(InputError) as err:
        build_site(root=root, out_dir=tmp_path / "site", now=NOW)
    # issue 13: every settings error names kcdata.yaml:line:col and the key path
    assert re.match(r"kcdata\.yaml:\d+:\d+ site\b", err.value.message), err.value.message


def test_program_page_charts_and_problems(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", broken=True)
    result = build_site(root=root, out_dir=tmp_path / "site", now=NOW)
    assert result.problems and result.problems[0].where.startswith("inventory/parks.yaml:")
    html = (tmp_path / "site/program.html").read_text(encoding="utf-8")
    assert "inventory/parks.yaml:" in html
    for chart in ("chart-departments", "chart-progress", "chart-goals", "chart-overdue"):
        assert f'id="{chart}" role="img"' in html
        assert f'<title id="{chart}-t">' in html
    assert html.count("<table") >= 4 and 'scope="col"' in html and 'scope="row"' in html
    # The release-progress data table: published so far / on the portal, by month.
    assert '<th scope="row">2026-03</th><td>1</td><td>1</td>' in html
    assert '<th scope="row">2026-06</th><td>2</td><td>2</td>' in html


def test_release_progress_replays_history_with_retirements(tmp_path: Path) -> None:
    from kcdata.site import model
    from kcdata.site.settings import site_settings

    root = write_program(tmp_path / "p")
    doc = yaml.safe_load((root / "inventory/police.yaml").read_text(encoding="utf-8"))
    doc["datasets"][2].update(status="retired", history=[
        {"who": "a", "when": "2026-02-10", "from": "approved", "to": "published"},
        {"who": "a", "when": "2026-07-01", "from": "published", "to": "retired"}])
    doc["datasets"][1].update(status="published", portal_id="crim-0001", history=[])  # no record of its release
    (root / "inventory/police.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    inv = load_inventory(root).inventory
    views, _ = model.dataset_views(inventory=inv, settings=site_settings({}), goals=(), priorities=None,
                                   validations={}, today=NOW.date())
    p = model.release_progress(views, NOW.date())
    assert p.months[0] == "2026-02" and p.months[-1] == "2026-11"
    assert p.unrecorded == 1
    table = dict(zip(p.months, zip(p.ever_published, p.on_portal, strict=True), strict=True))
    assert table["2026-02"] == (2, 2)   # the unrecorded one + the later-retired one
    assert table["2026-03"] == (3, 3)
    assert table["2026-06"] == (4, 4)
    assert table["2026-07"] == (4, 3)   # retired in July: still counted as ever published
    published_now = sum(1 for d in inv.datasets if d.status.value == "published")
    assert p.on_portal[-1] == published_now
    assert all(a >= b for a, b in zip(p.ever_published, p.on_portal, strict=True))
    assert list(p.ever_published) == sorted(p.ever_published)


def test_existing_site_is_replaced_whole(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(root=program, out_dir=out, now=NOW)
    (out / "sentinel.txt").write_text("old", encoding="utf-8")
    build_site(root=program, out_dir=out, now=NOW)
    assert not (out / "sentinel.txt").exists()
    assert (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["program", "site"]


def test_failed_build_leaves_the_old_site_intact(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(root=program, out_dir=out, now=NOW)
    (out / "sentinel.txt").write_text("old", encoding="utf-8")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    written: list[str] = []

    def explode(rel: str) -> None:
        written.append(rel)
        if len(written) == 5:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        build_site(root=program, out_dir=out, now=NOW, on_progress=explode)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["program", "site"], "staging folder left behind"


def test_refuses_to_replace_a_folder_it_did_not_build(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="not a site kcdata built"):
        build_site(root=program, out_dir=out, now=NOW)
    assert (out / "thesis.docx").read_text(encoding="utf-8") == "precious"
    with pytest.raises(InputError, match="program folder"):
        build_site(root=program, out_dir=program, now=NOW)


def test_strict_refuses_an_inventory_with_problems(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", broken=True)
    with pytest.raises(FindingsError) as err:
        build_site(root=root, out_dir=tmp_path / "site", strict=True, now=NOW)
    assert err.value.details["problems"][0]["where"].startswith("inventory/parks.yaml")
    assert not (tmp_path / "site").exists()


def test_unsafe_and_duplicate_ids_stay_inside_the_site(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p")
    doc = yaml.safe_load((root / "inventory/water.yaml").read_text(encoding="utf-8"))
    doc["datasets"][0]["id"] = "../../escape"
    doc["datasets"].append(copy.deepcopy(doc["datasets"][1]))
    (root / "inventory/water.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = build_site(root=root, out_dir=tmp_path / "out" / "site", now=NOW)
    assert not (tmp_path / "escape.html").exists() and not (tmp_path / "out" / "escape.html").exists()
    pages = [p for p in result.pages if p.startswith("datasets/")]
    assert len(pages) == result.datasets == 7 and len(set(pages)) == 7
    assert any("not a slug" in w for w in result.warnings)
    assert any("more than once" in w for w in result.warnings)


# -- CLI --------------------------------------------------------------------------------------------

def test_cli_build_default_out_prints_file_url(cli, program: Path) -> None:
    r = cli(["--root", str(program), "site", "build"])
    assert r.exit_code == 0, r.stderr
    index = program / "site" / "index.html"
    assert index.is_file()
    assert index.resolve().as_uri() in r.stdout


def test_cli_json_equals_library_result(cli, program: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    r = cli(["--root", str(program), "site", "build", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.stderr
    env = r.json()
    assert env["command"] == "site build" and env["exit_code"] == 0 and env["errors"] == []
    lib = build_site(root=program, out_dir=out)
    assert env["data"] == to_jsonable(lib)


def test_cli_strict_exit_1_lists_problems(cli, tmp_path: Path) -> None:
    root = write_program(tmp_path / "p", broken=True)
    r = cli(["--root", str(root), "site", "build", "--strict"])
    assert r.exit_code == 1
    assert "inventory/parks.yaml:2:9" in r.stderr
    r = cli(["--root", str(root), "site", "build", "--strict", "--json"])
    assert r.exit_code == 1
    env = r.json()
    assert env["errors"][0]["code"] == "inventory-problems"
    assert env["data"]["problems"][0]["where"].startswith("inventory/parks.yaml")
    r = cli(["--root", str(root), "site", "build"])
    assert r.exit_code == 0, "without --strict the site builds and shows the problems"


def test_cli_exit_3_without_inventory_or_with_bad_settings(cli, tmp_path: Path) -> None:
    r = cli(["--root", str(tmp_path), "site", "build", "--json"])
    assert r.exit_code == 3 and r.json()["errors"][0]["code"] == "bad-input"
    root = write_program(tmp_path / "p", extra_settings={"site": {"hashtag": "no hash"}})
    r = cli(["--root", str(root), "site", "build"])
    assert r.exit_code == 3
    assert "site.hashtag" in r.stderr


def test_release_priority_and_validation_come_from_their_stages(program: Path, tmp_path: Path) -> None:
    from kcdata.score import explain, load_method, score_inventory
    from kcdata.validate import validate_datasets

    inv = load_inventory(program).inventory
    run = validate_datasets(inventory=inv)  # fills the cache the site reads; the site never validates
    reports = {r.id: r for r in run.datasets}
    assert not reports["dataset-01"].valid
    assert "dataset-05" not in reports
    result = build_site(root=program, out_dir=tmp_path / "site", now=NOW)
    assert result.with_priority and result.validated == len(reports) == 4
    ranking = score_inventory(inventory=inv, method=load_method(root=program),
                              validations={d.id: reports.get(d.id) for d in inv.datasets})
    ranked = [s for s in ranking if s.rank is not None]
    assert ranked
    for s in ranked:
        page = (tmp_path / "site" / "datasets" / f"{s.id}.html").read_text(encoding="utf-8")
        assert f"Rank <strong>{s.rank}</strong> of {len(ranked)}" in page
        assert f">{s.band}</span>" in page
        sentence = explain(ranking=ranking, dataset_id=s.id).sentence
        assert escape(sentence, quote=True) in page
        for c in s.breakdown:
            assert escape(c.sentence, quote=True) in page
    for ds_id, rep in reports.items():
        page = (tmp_path / "site" / "datasets" / f"{ds_id}.html").read_text(encoding="utf-8")
        if rep.valid:
            assert f"Passed its Table Schema check ({rep.rows:,} rows)" in page
        else:
            assert f"Failed its Table Schema check: {rep.error_count:,} error" in page
    no_data = (tmp_path / "site/datasets/dataset-05.html").read_text(encoding="utf-8")
    assert "No validation result has been recorded" in no_data
    program_html = (tmp_path / "site/program.html").read_text(encoding="utf-8")
    assert 'id="chart-bands" role="img"' in program_html
    for band in ("P1", "P2", "P3"):
        n = sum(1 for s in ranked if s.band == band)
        assert f'<th scope="row">{band}</th><td>{n}</td>' in program_html


def test_hostile_names_are_escaped_in_charts(tmp_path: Path) -> None:
    root = write_program(tmp_path / "p")
    doc = yaml.safe_load((root / "inventory/police.yaml").read_text(encoding="utf-8"))
    doc["department"]["name"] = 'Police <svg onload="alert(1)">'
    doc["datasets"][1]["title"] = "</title><script>alert(2)</script>"  # overdue: drawn in the overdue chart
    (root / "inventory/police.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    build_site(root=root, out_dir=tmp_path / "site", now=NOW)
    for page in (tmp_path / "site").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<svg onload" not in html and "<script>alert(2)" not in html, page.name
    program_html = (tmp_path / "site/program.html").read_text(encoding="utf-8")
    assert "Police &lt;svg onload=&#34;alert(1)&#34;&gt;" in program_html or \
        "Police &lt;svg onload=&quot;alert(1)&quot;&gt;" in program_html


def test_lint_findings_are_listed_on_the_program_page(tmp_path: Path) -> None:
    from kcdata.inventory.lint import lint_inventory

    root = write_program(tmp_path / "p")
    doc = yaml.safe_load((root / "inventory/water.yaml").read_text(encoding="utf-8"))
    doc["datasets"][1]["licence"] = "CC0"  # a misspelt key: loading ignores it, lint does not
    (root / "inventory/water.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    report = lint_inventory(root=root)
    assert report.problems
    result = build_site(root=root, out_dir=tmp_path / "site", now=NOW)
    assert {(p.where, p.message) for p in result.problems} == {(p.location(), p.message) for p in report.problems}
    html = (tmp_path / "site/program.html").read_text(encoding="utf-8")
    for p in report.problems:
        assert str(markup_escape(p.message)) in html
    errors = [p for p in report.problems if p.severity.value == "error"]
    if errors:
        with pytest.raises(FindingsError):
            build_site(root=root, out_dir=tmp_path / "strict", strict=True, now=NOW)
    else:
        assert build_site(root=root, out_dir=tmp_path / "strict", strict=True, now=NOW).problems, \
            "--strict refuses lint errors, not warnings"


@pytest.mark.parametrize(("n", "step"), [(1, 1), (48, 1), (49, 3), (144, 3), (145, 12), (400, 12)])
def test_long_progress_is_sampled_keeping_the_latest_month(n: int, step: int) -> None:
    from kcdata.site.model import Progress, sample_progress

    months = tuple(f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(n))
    p = Progress(months=months, ever_published=tuple(range(n)), on_portal=tuple(range(n)), unrecorded=0)
    s = sample_progress(p)
    assert s.months[-1] == months[-1] and s.ever_published[-1] == n - 1
    assert len(s.months) <= 48 or step == 1
    idx = [months.index(m) for m in s.months]
    assert all(b - a == step for a, b in itertools.pairwise(idx))


def test_cli_usage_error_is_exit_2(cli, program: Path) -> None:
    r = cli(["--root", str(program), "site", "build", "--no-such-option"])
    assert r.exit_code == 2
    r = cli(["--root", str(program), "site", "build", "--json", "-o"])
    assert r.exit_code == 2
