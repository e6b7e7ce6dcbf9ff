"""Writes a full run into docs/benchmarks.md (between its markers) and its plot next to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import per_action, plot, report
from benchmarks.measures import ROOT, Result

DOC = ROOT / "docs" / "benchmarks.md"
IMAGE = DOC.with_name("benchmarks.png")
START = "<!-- bench:run:start (written by `make bench`; edit the text around it, not this) -->"
END = "<!-- bench:run:end -->"


def section(run: dict[str, Any], results: list[Result], image: str | None) -> str:
    """The run as Markdown: machine, versions, the figures, the per-action table, the plot."""
    figures = [r for r in results if not r.id.startswith("actions.") or r.id == "actions.worst"]
    parts = [report.markdown(run, figures)]
    if any(r.id.startswith("actions.") for r in results):
        parts.append("Per action (median per call; the judged figure above is the highest):\n")
        parts.append(per_action.markdown_table(results))
    if image:
        parts.append(f"![Latency per action, addon vs raw redis-py; PING latency while listing]"
                     f"({image})\n")  # fmt: skip
    return "\n".join(parts)


def write(run: dict[str, Any], results: list[Result], doc: Path = DOC) -> list[Path]:
    """Replace the marked block of ``doc`` with this run (and draw the plot next to it); the
    files written. The block must exist: the text around it is written by hand."""
    text = doc.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{doc} has no {START!r} ... {END!r} block to write the run into")
    image_path = doc.with_name(IMAGE.name)
    written = []
    try:
        plot.draw(results, image_path)
        written.append(image_path)
        image = image_path.name
    except plot.PlotUnavailableError as exc:
        print(f"[bench] no plot: {exc}")
        image = None
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{START}\n\n{section(run, results, image)}\n{END}{tail}")
    written.append(doc)
    return written
