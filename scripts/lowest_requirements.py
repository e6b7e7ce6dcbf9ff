"""The requirements of the lowest-versions test run (`make test-lowest`), from pyproject.toml.

Every run-time dependency and every extra's dependency is pinned to the floor it declares
(``name>=floor``), the dev tools to their versions in poetry.lock; what those need in turn is
left to pip (newest allowed), as in uv's "lowest-direct" resolution. pyproject.toml stays the
one place the floors are written.

    python scripts/lowest_requirements.py           # requirement lines for pip install -r
    python scripts/lowest_requirements.py --extras  # the extras to install: cli,embedded,...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?\s*"
    r"(?P<specifiers>[^;]*?)\s*(?:;\s*(?P<marker>.+))?$"
)
FLOOR = re.compile(r">=\s*(?P<version>[0-9][^,\s]*)")


def normalize(name: str) -> str:
    """PEP 503 name: poetry.lock and pyproject.toml may spell a name differently."""
    return re.sub(r"[-_.]+", "-", name).lower()


def floors(pyproject: dict) -> dict[str, str]:
    """name -> ``name[extras]==floor`` for every run-time and extra dependency."""
    project = pyproject["project"]
    declared = list(project["dependencies"])
    for requirements in project.get("optional-dependencies", {}).values():
        declared.extend(requirements)
    pins: dict[str, str] = {}
    for requirement in declared:
        match = REQUIREMENT.match(requirement.strip())
        floor = FLOOR.search(match["specifiers"]) if match else None
        if match is None or floor is None:
            raise SystemExit(f"pyproject.toml: {requirement!r} declares no floor (name>=X)")
        pin = f"{match['name']}{match['extras'] or ''}=={floor['version']}"
        pins[normalize(match["name"])] = pin + (f" ; {match['marker']}" if match["marker"] else "")
    return pins


def dev_tools(pyproject: dict, lock: dict) -> dict[str, str]:
    """name -> ``name[extras]==locked version`` for every dev dependency."""
    locked = {normalize(package["name"]): package["version"] for package in lock["package"]}
    group = pyproject["tool"]["poetry"]["group"]["dev"]["dependencies"]
    pins: dict[str, str] = {}
    for name, spec in group.items():
        extras = spec.get("extras", []) if isinstance(spec, dict) else []
        markers = spec.get("markers") if isinstance(spec, dict) else None
        pin = f"{name}{'[' + ','.join(extras) + ']' if extras else ''}=={locked[normalize(name)]}"
        pins[normalize(name)] = pin + (f" ; {markers}" if markers else "")
    return pins


def requirements(root: Path = ROOT) -> list[str]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    lock = tomllib.loads((root / "poetry.lock").read_text())
    pins = dev_tools(pyproject, lock) | floors(pyproject)  # a run-time floor wins over the lock
    return [pins[name] for name in sorted(pins)]


def extras(root: Path = ROOT) -> list[str]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    return sorted(pyproject["project"].get("optional-dependencies", {}))


if __name__ == "__main__":
    if sys.argv[1:] == ["--extras"]:
        print(",".join(extras()))
    else:
        print("\n".join(requirements()))
