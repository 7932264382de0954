"""`identity-pipeline` command line: demo, ui, run, generate, hash, sandbox, serve, forget.

Heavy imports (Dagster above all) happen inside the command that needs them, so `hash` and
`generate` start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from identity_pipeline import settings
from identity_pipeline.cli_help import HelpFormatter
from identity_pipeline.dagster_instance import DEFAULT_DAGSTER_HOME


def _cmd_generate(args: argparse.Namespace) -> int:
    from identity_pipeline.dev.generate_contacts import generate_contacts

    if args.events < 0:
        print("error: --events must be 0 or more", file=sys.stderr)
        return 2
    result = generate_contacts(args.rows, Path(args.out), seed=args.seed)
    for path in result.paths:
        print(path)
    print(f"wrote {result.rows} rows in {len(result.paths)} file(s)")
    if args.events:
        _generate_events(args)
    if args.days:
        return _generate_activity(args)
    return 0


def _generate_events(args: argparse.Namespace) -> None:
    from identity_pipeline.dev.events import DEFAULT_EVENTS_PER_FILE, generate_events

    events = generate_events(
        args.events,
        Path(args.out),
        seed=args.seed,
        events_per_file=max(1, min(DEFAULT_EVENTS_PER_FILE, (args.events + 1) // 2)),
        contacts_rows=args.rows,
    )
    for path in events.paths:
        print(path)
    print(
        f"wrote {events.events} web and app events of {events.people} people in "
        f"{len(events.paths)} file(s)"
    )


def _generate_activity(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from identity_pipeline.dev.generate_activity import generate_activity

    now = settings.now()
    start = (
        date.fromisoformat(args.start_date)
        if args.start_date
        else now.date() - timedelta(days=args.days)
    )
    activity = generate_activity(
        Path(args.out),
        contacts_rows=args.rows,
        contacts_seed=args.seed,
        days=args.days,
        start=start,
        now=now,
        seed=args.seed,
        impressions_per_day=args.impressions_per_day,
    )
    print(
        f"wrote {activity.impressions} impressions ({activity.known_impressions} to customers, "
        f"{activity.previous_uid2_impressions} with a UID2 rotated since, "
        f"{activity.older_id5_impressions} with an older ID5 ID) and {activity.conversions} "
        f"conversions for {args.days} day(s) from {start} in {len(activity.paths)} file(s)"
    )
    return 0


def _cmd_hash(args: argparse.Namespace) -> int:
    from identity_pipeline.landing.readers import InputFileError
    from identity_pipeline.normalize.hashing import hash_file

    try:
        summary = hash_file(
            Path(args.input),
            Path(args.output),
            column=args.column,
            dii_type=args.type,
            default_region=settings.default_region(args.default_region),
        )
    except (InputFileError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{summary.rows} rows: {summary.valid} valid, {summary.invalid} invalid -> {args.output}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from identity_pipeline.dev.demo import run_demo

    return run_demo(rows=args.rows, seed=args.seed, days=args.days)


def _cmd_run(args: argparse.Namespace) -> int:
    from identity_pipeline.run_job import run_job

    return run_job(args.job, args.first, args.last)


def _cmd_ui(args: argparse.Namespace) -> int:
    from identity_pipeline.ui import serve

    return serve(args.host, args.port)


def _cmd_sandbox(args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(f"identity_pipeline.sandboxes.{args.service}")
    return int(module.main(args.rest))


def _cmd_serve(args: argparse.Namespace) -> int:
    from identity_pipeline.service.server import serve

    return serve(args.host, args.port)


def _cmd_forget(args: argparse.Namespace) -> int:
    from identity_pipeline.privacy.command import run

    return run(args)


def _region(value: str) -> str:
    """argparse type for region codes: a clear usage error naming a region nobody knows."""
    try:
        return settings.region_code(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="identity-pipeline", description=__doc__, formatter_class=HelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=HelpFormatter
        )

    demo = command("demo", "generate sample data and run the pipeline end to end")
    demo.add_argument("--rows", type=int, default=20_000, help="sample contacts to generate")
    demo.add_argument("--seed", type=int, default=42, help="seed of the sample data")
    demo.add_argument("--days", type=int, default=30, help="days of ad activity to attribute")
    demo.set_defaults(func=_cmd_demo)

    ui = command(
        "ui",
        "start the Dagster UI (webserver and daemon) on the shared instance "
        f"({DEFAULT_DAGSTER_HOME} unless $DAGSTER_HOME is set)",
    )
    ui.add_argument("--host", default="127.0.0.1", help="address the webserver listens on")
    ui.add_argument("--port", type=int, default=3000, help="port the webserver listens on")
    ui.set_defaults(func=_cmd_ui)

    run = command(
        "run",
        "run one job (ingest_contacts, uid2_refresh, id5_refresh, attribution, ...) in this "
        "process on the shared instance",
    )
    run.add_argument("job", help="job name, as listed in the README and the UI")
    for option, dest, help_text in (
        (
            "--from",
            "first",
            "first day of a partitioned job such as attribution (default: yesterday, UTC)",
        ),
        ("--to", "last", "last day, included (default: the --from day, else yesterday)"),
    ):
        run.add_argument(
            option, dest=dest, type=date.fromisoformat, metavar="YYYY-MM-DD", help=help_text
        )
    run.set_defaults(func=_cmd_run)

    gen = command(
        "generate",
        "write messy sample CRM exports to OUT/contacts/, web and app events of the same "
        "people to OUT/events/ (and, with --days, ad activity)",
    )
    gen.add_argument("--rows", type=int, required=True, help="contacts to write (required)")
    gen.add_argument("--out", required=True, help="folder to write into (required)")
    gen.add_argument("--seed", type=int, default=42, help="same seed, same bytes")
    gen.add_argument(
        "--events",
        type=int,
        default=50_000,
        help="web and app events to write to OUT/events/ (seed 003 bodies; 0: none)",
    )
    gen.add_argument(
        "--days",
        type=int,
        default=0,
        help="also write OUT/impressions/ and OUT/conversions/, one file per day",
    )
    gen.add_argument(
        "--start-date", help="first day, YYYY-MM-DD (default: DAYS days before today, UTC)"
    )
    gen.add_argument(
        "--impressions-per-day", type=int, help="impressions per day (default: ROWS / 10, >= 50)"
    )
    gen.set_defaults(func=_cmd_generate)

    hsh = command("hash", "normalize and hash a column, one output row per input row")
    hsh.add_argument("input", help=".csv or .parquet")
    hsh.add_argument("output", help=".csv or .parquet")
    hsh.add_argument(
        "--column",
        help="column to hash (default: the email, phone or value column, or the only column)",
    )
    hsh.add_argument(
        "--type",
        choices=["email", "phone"],
        help="what the values are (default: the column's name if it is email or phone; "
        "otherwise each value with an '@' is an email, any other a phone)",
    )
    hsh.add_argument(
        "--default-region",
        type=_region,
        metavar="CC",
        help="ISO 3166 alpha-2 region for national phone numbers (default: "
        f"${settings.ENV_DEFAULT_REGION}, else {settings.DEFAULT_REGION})",
    )
    hsh.set_defaults(func=_cmd_hash)

    sandbox = command("sandbox", "run a local UID2 or ID5 sandbox server")
    sandbox.add_argument("service", choices=["uid2", "id5"], help="which sandbox")
    sandbox.add_argument(
        "rest",
        nargs=argparse.REMAINDER,
        help="options of that sandbox (identity-pipeline sandbox uid2 --help lists them)",
    )
    sandbox.set_defaults(func=_cmd_sandbox)

    forget = command(
        "forget",
        "forget a person (privacy request): delete their events, journal, graph entries and "
        "scores, deny-list their identifiers, keep an audit row without the value",
    )
    from identity_pipeline.privacy.command import add_arguments as add_forget_arguments

    add_forget_arguments(forget, _region)
    forget.set_defaults(func=_cmd_forget)

    serve = command("serve", "run the identity service (seed 003's identifier API)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    serve.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
