"""`python -m benchmarks --smoke`: writes well-formed results (judges no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from servers import require_binary

pytestmark = pytest.mark.integration  # the smoke run starts its own redis-server

ROOT = Path(__file__).resolve().parents[2]
VERDICTS = {"PASS", "MISS", "N/A", "INFO"}
EXPECTED = {
    "import.addon_over_deps",
    "import.stray_modules",
    "overhead.set_key",
    "overhead.get_key",
    "overhead.own_work",
    "batch.set_many",
    "batch.get_many",
    "concurrency.throughput_ratio",
    "concurrency.connections",
    "concurrency.failures",
    "memory.rss_growth",
    "listing.list_keys_probe_max",
    "listing.keys_probe_max",
    "listing.limit_100",
    "hiredis.set_key",
}


def test_smoke_run_writes_a_result_per_figure(tmp_path: Path) -> None:
    require_binary("redis-server")
    out = tmp_path / "smoke.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Result" in run.stdout
    assert str(out) in run.stdout

    data = json.loads(out.read_text())
    assert data["profile"] == "smoke"
    assert data["versions"]["redis"]
    assert data["versions"]["redis-server"]
    assert data["machine"]["cores"] >= 1
    results = {result["id"]: result for result in data["results"]}
    assert set(results) >= EXPECTED, sorted(EXPECTED - set(results))
    for result in results.values():
        assert result["figure"], result
        assert result["status"] in VERDICTS, result
        assert result["status"] != "MISS" or result["value"] is not None, result
        if result["op"] is not None:
            assert result["target"].startswith(result["op"]), result
    # The figures are facts of the run: every key was listed, both sides made their calls.
    assert results["listing.list_keys_probe_max"]["details"]["keys"] == 2000
    assert results["listing.list_keys_probe_max"]["details"]["probe"]["pings"] > 0
    assert results["overhead.set_key"]["details"]["calls_per_side"] == 100
    assert results["import.stray_modules"]["value"] == 0
