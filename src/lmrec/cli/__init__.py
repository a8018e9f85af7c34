"""The ``lmrec`` command: a thin shell over the library (one file per subcommand)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from lmrec.errors import LmrecError

app = typer.Typer(
    name="lmrec",
    help="lmrec: a recommender engine. Import data, split it, train and evaluate models, "
    "and get recommendations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from lmrec._version import __version__

        typer.echo(f"lmrec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv: debug)."
    ),
    log_file: Path | None = typer.Option(
        None, "--log-file", help="Also write the log to this file."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Config file (TOML) whose [train], [evaluate], [serve], [data.split], ... tables "
        "set the options of those commands; flags override it (default: $LMREC_CONFIG, else "
        "./lmrec.toml when it exists).",
    ),
) -> None:
    from lmrec.cli.config import command_defaults
    from lmrec.config import config_path, read_config

    file = config_path(config)
    ctx.obj = {"config": file}  # serve hands the same file to its settings
    if file is not None:
        ctx.default_map = command_defaults(read_config(file), ctx, str(file))
    level = logging.WARNING - 10 * min(verbose, 2)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(
        level=level, handlers=handlers, format="%(levelname)s %(name)s: %(message)s"
    )


def _register() -> None:
    from lmrec.cli import (
        data,
        demo,
        evaluate,
        export,
        profile,
        recommend,
        report,
        retrain,
        serve,
        simulate,
        train,
    )

    data.app.command("export")(retrain.export)
    app.add_typer(data.app, name="data")
    app.add_typer(report.app, name="report")
    app.command("train")(train.train)
    app.command("recommend")(recommend.recommend)
    app.command("evaluate")(evaluate.evaluate)
    app.command("demo")(demo.demo)
    app.command("serve")(serve.serve)
    app.command("export")(export.export)
    app.command("profile")(profile.profile)
    app.command("simulate")(simulate.simulate)
    app.command("retrain")(retrain.retrain)


_register()


def main() -> None:
    """Entry point: user errors, bad flags and values included, become one line on stderr
    and exit code 2; a file the system refuses (missing folder, no permission, disk full)
    one line and exit code 1."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # a flag or value the command cannot take
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain 'lmrec': the help, as usual
            app(["--help"], standalone_mode=False)
            raise SystemExit(0) from None
        describe = getattr(exc, "format_message", None)  # names the flag (click's errors)
        typer.echo(f"error: {describe() if callable(describe) else exc}", err=True)
        raise SystemExit(int(getattr(exc, "exit_code", 2))) from None
    except typer.Abort:
        typer.echo("aborted", err=True)
        raise SystemExit(1) from None
    except LmrecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    except ModuleNotFoundError as exc:
        from lmrec.registry import extra_for_module, missing_extra_error

        if extra_for_module(exc.name) is None:
            raise
        typer.echo(f"error: {missing_extra_error('this command', exc)}", err=True)
        raise SystemExit(2) from None
    except OSError as exc:  # a file or folder the system refused: missing, read-only, full
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)
