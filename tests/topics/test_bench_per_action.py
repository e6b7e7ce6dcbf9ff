"""The benchmark's per-action table, its raw side and the docs block it writes (no timing judged).

The benchmarks are not an installed package: like test_bench_harness, these run them from the
repository root in a child interpreter, which prints what is checked here as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from redis_rooms_pkg.actions import CATALOGUE
from servers import require_binary

pytestmark = pytest.mark.integration  # the child runs start their own redis-server
ROOT = Path(__file__).resolve().parents[2]


def in_repo(code: str, *args: str) -> Any:
    """Run ``code`` (with ``args``) from the repository root, where the benchmarks are
    importable; its last printed line, as JSON."""
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


ON_A_SERVER = """
    import json
    import redis
    from benchmarks import per_action
    from benchmarks.measures import close_raw, make_addon, raw_twin
    from benchmarks.report import quiet_logging
    from benchmarks.server import BenchServer

    quiet_logging()
    with BenchServer() as server:
        addon = make_addon(server.port)
        raw = raw_twin(addon)
        facts = {
            "raw_class": type(raw).__name__,
            "raw_pool": type(raw.connection_pool).__name__,
            "raw_connection": raw.connection_pool.connection_class.__name__,
        }
        code, sent = per_action.record(addon, "set_key", {"key": "k", "value": "v1"})
        facts["set_code"] = code
        facts["set_sent"] = [[kind, [repr(arg) for arg in what[0]]] for kind, what in sent]
        facts["recorder_removed"] = "execute_command" not in vars(addon.client())
        raw.delete("k")
        per_action.replay(raw, sent)()
        value = raw.get("k")
        facts["replayed_value"] = value.decode() if isinstance(value, bytes) else value
        _, piped = per_action.record(addon, "get_key", {"key": "k", "with_ttl": True})
        facts["get_ttl_kinds"] = [kind for kind, _ in piped]
        results = per_action.per_action(server.port, rounds=1, calls=2)
        facts["rows"] = {
            r.id: {"value": r.value, "sent": r.details.get("sent")} for r in results
        }
        facts["table_lines"] = len(per_action.markdown_table(results).strip().splitlines())
        close_raw(raw)
        addon.close()
    print(json.dumps(facts))
"""


def test_per_action_table_replays_the_same_commands_on_plain_redis_py() -> None:
    require_binary("redis-server")
    facts = in_repo(ON_A_SERVER)
    assert (facts["raw_class"], facts["raw_pool"], facts["raw_connection"]) == (
        "Redis",
        "ConnectionPool",
        "Connection",
    )
    assert facts["set_code"] == 200
    assert facts["set_sent"] == [["command", ["'SET'", "'k'", "b'v1'"]]]
    assert facts["recorder_removed"]
    assert facts["replayed_value"] == "v1"
    assert facts["get_ttl_kinds"] == ["pipeline"]
    rows = {name.removeprefix("actions."): row for name, row in facts["rows"].items()}
    worst = rows.pop("worst")
    assert set(rows) == set(CATALOGUE)
    assert all(row["sent"] and row["value"] > 0 for row in rows.values())
    assert worst["value"] == max(row["value"] for row in rows.values())
    assert facts["table_lines"] == 2 + len(CATALOGUE)


WRITE_DOCS = """
    import json, sys
    from pathlib import Path
    sys.modules["matplotlib"] = None  # as in the test environment: no plot
    from benchmarks import docs, plot
    from benchmarks.measures import Result

    row = {"addon_median_us": 30.0, "raw_median_us": 28.0, "ratio": 1.07, "sent": ["GET"]}
    listing = {"keys": 10, "latencies_ms": [0.1, 0.2]}
    results = [
        Result("actions.worst", "highest", 1.07, "x", "<=", 1.15),
        Result("actions.get_key", "get_key", 1.07, "x", details=row),
        Result("listing.list_keys_probe_max", "list", 0.2, "ms", details=listing),
        Result("listing.keys_probe_max", "keys", 0.2, "ms", details=listing),
    ]
    run = {
        "date": "2026-01-01T00:00:00+00:00",
        "profile": "full",
        "machine": {"cpu": "cpu", "cores": 2, "os": "os", "load_average": [0.1, 0.2, 0.3]},
        "versions": {"redis": "8.1.0"},
    }
    folder = Path(sys.argv[1])
    doc, bare = folder / "benchmarks.md", folder / "bare.md"
    doc.write_text(f"# Before\\n\\n{docs.START}\\nold run\\n{docs.END}\\n\\nAfter.\\n")
    bare.write_text("# No block\\n")
    written = docs.write(run, results, doc)
    try:
        docs.write(run, results, bare)
        refused = ""
    except ValueError as exc:
        refused = str(exc)
    try:
        plot.draw(results, folder / "plot.png")
        no_plot = ""
    except plot.PlotUnavailableError as exc:
        no_plot = str(exc)
    print(json.dumps({
        "written": [str(path) for path in written],
        "text": doc.read_text(),
        "start": docs.START,
        "end": docs.END,
        "refused": refused,
        "bare": bare.read_text(),
        "no_plot": no_plot,
        "plot_exists": (folder / "plot.png").exists(),
    }))
"""


def test_a_full_run_replaces_the_docs_block_and_keeps_the_rest(tmp_path: Path) -> None:
    out = in_repo(WRITE_DOCS, str(tmp_path))
    start, end, text = out["start"], out["end"], out["text"]
    assert out["written"] == [str(tmp_path / "benchmarks.md")]
    assert text.startswith(f"# Before\n\n{start}\n")
    assert text.endswith(f"{end}\n\nAfter.\n")
    assert "old run" not in text
    assert "| `get_key` | GET | 30.0 | 28.0 | 1.070 |" in text
    assert "| highest | 1.07 x | <= 1.15 x | PASS |" in text
    assert "| get_key | 1.07 x" not in text  # a per-action row is in the per-action table only


def test_docs_without_the_block_are_left_alone(tmp_path: Path) -> None:
    out = in_repo(WRITE_DOCS, str(tmp_path))
    assert "no" in out["refused"]
    assert out["bare"] == "# No block\n"


def test_without_matplotlib_no_plot_and_the_message_says_how_to_get_it(tmp_path: Path) -> None:
    out = in_repo(WRITE_DOCS, str(tmp_path))
    assert "make bench" in out["no_plot"]
    assert not out["plot_exists"]
    assert "![" not in out["text"]
