"""``kcdata init``: a new program folder for another city, ready to lint, validate and publish.

The example department file explains every field of the inventory format in comments, so the
first file a new liaison opens is also the documentation.
"""

from __future__ import annotations

from pathlib import Path

from kcdata import __version__
from kcdata.errors import InputError
from kcdata.fileio import atomic_write_text

# Where kcdata lives: the pre-commit hooks and the GitHub Action a new program uses come from here.
REPOSITORY = "https://github.com/kcdata/kcdata"
ACTION = "kcdata/kcdata"

DEPARTMENT_FILE = """\
# One file per department, named after the department id: inventory/public-works.yaml.
# Every dataset the department holds is listed here, published or not: that is the inventory.
# Check the file with `kcdata inventory lint`; add datasets with `kcdata inventory add`.
# The format is published as a JSON Schema (kcdata/inventory/inventory.schema.json in kcdata).

department:
  id: public-works                 # lowercase slug, unique; must equal the file name
  name: Public Works               # the department's name as residents know it
  liaison: {name: Public Works Open Data Liaison, email: pw-data@example.org}   # a role, not a person

datasets:
  - id: pothole-repairs            # REQUIRED. Stable city-wide id: lowercase slug, never reused or renamed
    title: Pothole Repairs         # REQUIRED. Short public title
    description: >-                # REQUIRED. What the data is, what one row means, what it covers
      Every pothole reported to the city and the date it was repaired, with the street address.
    keywords: [streets, potholes, repairs]   # search words (required from status in_review on)
    theme: Transportation          # portal category (required from status in_review on)
    contact: {name: Public Works Data Team, email: pw-data@example.org}   # REQUIRED. who answers questions
    access_level: public           # REQUIRED. public | restricted public | non-public (DCAT-US accessLevel)
    classification: public         # public | sensitive | protected: the release-review risk class (default public)
    contains_pii: false            # true when rows identify or could identify a person
    rights: null                   # the written justification; REQUIRED when access_level or classification
                                   # is not public, or status is withheld
    license: https://creativecommons.org/publicdomain/zero/1.0/   # an open licence URL: CC0, PDDL, ODC-By,
                                   # ODbL, CC-BY, CC-BY-SA (required from status in_review on)
    accrual_periodicity: R/P1D     # how often it is updated: ISO 8601 repeating duration (R/P1D daily,
                                   # R/P1W weekly, R/P1M monthly, R/P1Y yearly) or irregular
    source_system: Work order system   # where the data comes from
    methodology: Exported nightly from the work order system; addresses geocoded by GIS.
    data: data/samples/pothole-repairs.csv          # path (relative to this folder) or URL of the data file
    schema: schemas/pothole-repairs.schema.json     # its Frictionless Table Schema (JSON or YAML)
    row_identifier: request_id     # the schema field that identifies a row on the portal (updates, deletes)
    kcstat_goals: [infrastructure] # ids of goals from kcdata.yaml `goals:` this dataset informs
    value: high                    # high | medium | low: public value, as judged by the liaison
    requests: 3                    # resident / public-records requests for it in the last 12 months
    status: proposed               # inventoried -> proposed -> in_review -> approved -> published,
                                   # or withheld (not to be published; needs rights), retired (removed)
    target_release: 2027-03-01     # agreed publication date (YYYY-MM-DD)
    portal_id: null                # the portal's four-by-four id (abcd-1234) once published
    last_reviewed: 2026-11-02      # when the liaison last checked this entry (YYYY-MM-DD)
    monitor: {date_field: reported_date}   # optional, for `kcdata monitor`: the column whose newest value
                                   # must be within the update frequency; also group_by (year or a column),
                                   # append_only (true/false), shrink_threshold (0.05 = alert on a 5% drop)
    history:                       # review transitions, appended by kcdata: who, when, from, to, note
      - {who: Public Works Open Data Liaison, when: '2026-11-02T15:00:00Z', from: inventoried, to: proposed,
         note: Frequently requested by residents}
"""

SCHEMA_FILE = """\
{
  "fields": [
    {"name": "request_id", "type": "integer", "description": "Service request number",
     "constraints": {"required": true, "unique": true}},
    {"name": "reported_date", "type": "date", "description": "Day the pothole was reported",
     "constraints": {"required": true}},
    {"name": "repaired_date", "type": "date", "description": "Day it was repaired (empty while open)"},
    {"name": "address", "type": "string", "description": "Street address of the pothole"},
    {"name": "status", "type": "string", "description": "open, repaired, or duplicate of another request",
     "constraints": {"enum": ["open", "repaired", "duplicate"]}}
  ],
  "primaryKey": ["request_id"],
  "missingValues": [""]
}
"""

DATA_FILE = """\
request_id,reported_date,repaired_date,address,status
1001,2026-10-01,2026-10-03,100 Main St,repaired
1002,2026-10-02,,200 Oak Ave,open
1003,2026-10-02,2026-10-02,300 Elm St,repaired
1004,2026-10-04,,200 Oak Ave,duplicate
"""

SETTINGS_FILE = """\
# kcdata program settings. Every section is optional: the defaults live in kcdata itself,
# and each section belongs to one stage of the pipeline (other stages add their own sections).

program:
  city: {city_yaml}
  publisher: {publisher_yaml}
  publisher_email: opendata@example.org
  # The production portal: portal_ids recorded in the inventory belong to this domain.
  portal_domain: data.example.org

# Strategic goals (e.g. a performance-management program) that datasets link to with `kcstat_goals`.
goals:
  - id: infrastructure
    name: Infrastructure
    description: Streets, water and transit that work for everyone.
    metrics: [Potholes repaired within 3 days]
  - id: public-safety
    name: Public Safety
    description: A city where residents are and feel safe.
    metrics: [Emergency response times]
  - id: governance
    name: Finance & Governance
    description: Transparent and efficient city services.
    metrics: [Service requests closed on time]
"""

README_FILE = """\
# {city} open data program

This folder is the city's open-data program, run with [kcdata]({repository}):

- `inventory/` — one YAML file per department listing every dataset the city holds
- `schemas/` — a Frictionless Table Schema per dataset with a data file
- `data/samples/` — small sample data files
- `kcdata.yaml` — program settings and goals
- `.github/workflows/kcdata.yml` — CI: lint, validate and plan on pull requests; publish on merge
- `.github/workflows/kcdata-monitor.yml` — a daily `kcdata monitor` that opens an issue per alerting dataset
- `.pre-commit-config.yaml` — the same lint and validation before each commit (`pre-commit install`)

Start with:

    kcdata inventory lint          # check the inventory
    kcdata inventory list          # see it
    kcdata inventory add           # add a dataset (asks for each field)
"""

# Generated and local files: the public site, build output, kcdata's caches and logs.
GITIGNORE = """\
# kcdata: the built public site, build output, and local caches/logs (validation cache, locks, publish log)
site/
build/
.kcdata/
"""

PRE_COMMIT_CONFIG = """\
# pre-commit (https://pre-commit.com): `pre-commit install` once, then every commit is checked.
repos:
  - repo: {repository}
    rev: v{version}
    hooks:
      - id: kcdata-inventory-lint
      - id: kcdata-validate        # only the datasets whose files the commit changes
"""


WORKFLOWS = {"kcdata": "workflow-kcdata.yaml", "kcdata-monitor": "workflow-monitor.yaml"}


def workflow_text(*, action: str, name: str = "kcdata") -> str:
    """A workflow ``kcdata init`` writes (``kcdata``: CI on pull requests and merges; ``kcdata-monitor``: the
    scheduled monitor), running the kcdata GitHub Action named by ``action``."""
    from importlib.resources import files

    template = files("kcdata.inventory").joinpath(f"templates/{WORKFLOWS[name]}").read_text(encoding="utf-8")
    return template.replace("@KCDATA_ACTION@", action).replace("@KCDATA_VERSION@", __version__)


def scaffold_program(*, target: Path, force: bool = False, city: str = "Your City") -> tuple[Path, ...]:
    """Create a program folder at ``target``; refuses a non-empty folder unless ``force``.

    Returns the files written. With ``force``, files of the same name are replaced and other files
    are left alone.
    """
    target = Path(target)
    city = " ".join(city.split())
    if not city:
        raise InputError("the city name is empty", hint='Pass --city "Springfield" (any text; it is quoted for you).')
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} exists and is not a folder", hint="Choose a new folder name.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InputError(f"{target} is not empty", hint="Choose an empty or new folder, or pass --force to add "
                                                        "the example files to it (same-name files are replaced).")
    files = {
        "inventory/public-works.yaml": DEPARTMENT_FILE,
        "schemas/pothole-repairs.schema.json": SCHEMA_FILE,
        "data/samples/pothole-repairs.csv": DATA_FILE,
        "kcdata.yaml": SETTINGS_FILE.format(city_yaml=_yaml_str(city), publisher_yaml=_yaml_str(f"City of {city}")),
        "README.md": README_FILE.format(city=city, repository=REPOSITORY),
        ".gitignore": GITIGNORE,
        ".pre-commit-config.yaml": PRE_COMMIT_CONFIG.format(repository=REPOSITORY, version=__version__),
        **{f".github/workflows/{name}.yml": workflow_text(action=f"{ACTION}@v{__version__}", name=name)
           for name in WORKFLOWS},
    }
    written = []
    for rel, text in files.items():
        path = target / rel
        atomic_write_text(path, text)
        written.append(path)
    return tuple(written)


def _yaml_str(text: str) -> str:
    """``text`` as a one-line YAML scalar that reads back as exactly ``text`` (quoted when needed)."""
    import yaml

    out = yaml.safe_dump(text, default_flow_style=True, allow_unicode=True, width=10_000)
    return out.removesuffix("\n...\n").removesuffix("\n")
