"""Command line: python -m benchmarks [--quick | --smoke] [--only SECTION ...] [--json PATH]."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks import docs, measures, per_action, report
from benchmarks.measures import PROFILES, Result
from benchmarks.server import BenchServer

SECTIONS = (
    "import", "overhead", "actions", "batch", "concurrency", "memory", "listing", "hiredis",
)  # fmt: skip
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_const",
        dest="profile",
        const="quick",
        help="smaller sizes (100,000 keys to list...): under a minute",
    )
    size.add_argument(
        "--smoke",
        action="store_const",
        dest="profile",
        const="smoke",
        help="tiny sizes: proves the harness works, judges nothing",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="SECTION",
        help=f"run only these sections (repeatable): {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--json",
        type=Path,
        help="where to write the results (default: benchmarks/results/<profile>-<time>.json)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the run and its plot into docs/benchmarks.md (default: for a full run of "
        "every section only)",
    )
    parser.set_defaults(profile="full")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> tuple[dict, list[Result]]:
    profile = PROFILES[args.profile]
    wanted = args.only or SECTIONS
    results: list[Result] = []
    with BenchServer() as server:
        context = report.context(server.version())
        context["profile"] = profile.name
        context["sizes"] = profile.__dict__

        def section(name: str, measure) -> None:
            if name not in wanted:
                return
            started = time.perf_counter()
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            found = measure()
            results.extend(found if isinstance(found, list) else [found])
            print(
                f"[bench] {name} done in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )

        port, p = server.port, profile
        section("import", lambda: measures.import_time(p.import_runs))
        section(
            "overhead",
            lambda: measures.overhead_results(
                measures.overhead(port, p.overhead_rounds, p.overhead_calls)
            ),
        )
        section("overhead", lambda: measures.own_work(port, p.overhead_calls * 4))
        section("actions", lambda: per_action.per_action(port, p.action_rounds, p.action_calls))
        section("batch", lambda: measures.batches(port, p.batch_size, p.batch_rounds))
        section(
            "concurrency",
            lambda: measures.concurrency(
                port, p.threads, p.thread_iterations, p.concurrency_rounds
            ),
        )
        section("memory", lambda: measures.memory(port, p.memory_warmup, p.memory_actions))
        section("listing", lambda: measures.listing(port, p.listing_keys, p.limit_calls))
        listed = p.listing_keys if "listing" in wanted else 0
        section(
            "hiredis",
            lambda: measures.hiredis(
                port, p.hiredis_pairs, p.hiredis_rounds, p.hiredis_calls, listed
            ),
        )
        if "import" in wanted:
            context["import_profile_ms"] = measures.import_profile()
    return context, results


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    report.quiet_logging()
    context, results = run(args)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = args.json or RESULTS_DIR / f"{args.profile}-{stamp}.json"
    report.write_json(path, context, results)
    path.with_suffix(".md").write_text(report.markdown(context, results))
    machine, versions = context["machine"], context["versions"]
    print()
    print(
        f"Profile {args.profile}; {machine['cpu']} x{machine['cores']} cores, "
        f"load {machine['load_average']}; "
        + ", ".join(f"{name} {value}" for name, value in versions.items())
    )
    print(report.table(results))
    print(f"\nJSON: {path} (Markdown table: {path.with_suffix('.md')})")
    whole = args.profile == "full" and not args.only
    if args.docs or (args.docs is None and whole):
        for written in docs.write(context, results):
            print(f"Wrote {written}")
    missed = [result.id for result in results if result.status == "MISS"]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
