"""The run's plot: latency per action (addon vs raw redis-py), and PING latency while listing.

Drawn with matplotlib, which only ``make bench`` installs (the optional poetry group "bench"):
importing the benchmarks, the addon or running the tests never needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.measures import Result

MISSING = (
    "the plot needs matplotlib, which only `make bench` installs: run `make bench`, or "
    "`poetry install --all-extras --with bench` first"
)


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed (it is not a dependency of the addon or of its tests)."""


def draw(results: list[Result], path: Path) -> Path:
    """Write the plot as a PNG image at ``path``; PlotUnavailableError without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailableError(MISSING) from exc

    by_id = {result.id: result for result in results}
    rows = [r for r in results if r.id.startswith("actions.") and r.id != "actions.worst"]
    listing = [by_id.get("listing.list_keys_probe_max"), by_id.get("listing.keys_probe_max")]
    panels = int(bool(rows)) + int(all(listing))
    if not panels:
        raise ValueError("nothing to plot: run the actions and listing sections")
    figure, axes = plt.subplots(
        panels, 1, figsize=(9, 0.28 * len(rows) + 2.5 + 3.5 * (panels - 1)), squeeze=False
    )
    panel = iter(axes[:, 0])
    if rows:
        _per_action(next(panel), rows)
    if all(listing):
        _listing(next(panel), listing[0].details, listing[1].details)  # type: ignore[union-attr]
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _per_action(axis: Any, rows: list[Result]) -> None:
    names = [row.id.removeprefix("actions.") for row in rows]
    addon = [row.details["addon_median_us"] for row in rows]
    raw = [row.details["raw_median_us"] for row in rows]
    positions = range(len(rows))
    height = 0.4
    axis.barh([p - height / 2 for p in positions], addon, height, label="addon")
    axis.barh([p + height / 2 for p in positions], raw, height, label="raw redis-py, same commands")
    axis.set_yticks(list(positions), names)
    axis.invert_yaxis()
    axis.set_xscale("log")
    axis.set_xlabel("median latency per call (us, log scale)")
    axis.set_title("Each action vs the same commands on raw redis-py")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)


def _listing(axis: Any, during_list: dict[str, Any], during_keys: dict[str, Any]) -> None:
    for label, details in (
        (f"while list_keys lists {details_keys(during_list)} keys (SCAN pages)", during_list),
        ("while one KEYS * lists them", during_keys),
    ):
        latencies = details.get("latencies_ms") or []
        axis.plot(range(len(latencies)), latencies, linewidth=0.8, label=label)
    axis.set_yscale("log")
    axis.set_xlabel("PING number (a second client sends one every 0.5 ms)")
    axis.set_ylabel("PING latency (ms, log scale)")
    axis.set_title("Another client's PING latency while the keyspace is listed")
    axis.legend(loc="upper right")


def details_keys(details: dict[str, Any]) -> str:
    keys = details.get("keys")
    return f"{keys:,}" if isinstance(keys, int) else "all"
