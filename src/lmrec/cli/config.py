"""The config file's tables as the defaults of the commands' options (click's default map),
checked against the options each command has."""

from __future__ import annotations

from typing import Any

import typer

from lmrec.errors import UsageError

__all__ = ["command_defaults"]

#: Tables the commands do not take as option defaults (``serve`` reads its own table through
#: its settings, see :mod:`lmrec.service.settings`).
_OWN_SETTINGS = {"serve"}


def command_defaults(config: dict[str, Any], ctx: typer.Context, where: str) -> dict[str, Any]:
    """``config``'s tables for the commands of ``ctx``'s group (nested tables for sub-groups,
    such as ``[data.split]``), each key an option of that command; lists become
    comma-separated."""
    return _defaults(config, ctx.command, ctx, where)


def _defaults(config: dict[str, Any], group: Any, ctx: typer.Context, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = group.list_commands(ctx)
    for name, table in config.items():
        command = group.get_command(ctx, name) if name in names else None
        if command is None:
            known = ", ".join(sorted(names))
            raise UsageError(f"{where}: no command '{name}' for a [{name}] table; known: {known}")
        if not isinstance(table, dict):
            raise UsageError(f"{where}: [{name}] must be a table")
        if name in _OWN_SETTINGS:
            continue
        if hasattr(command, "list_commands"):  # a group of commands, such as ``data``
            out[name] = _defaults(table, command, ctx, f"{where} [{name}]")
            continue
        params = {p.name: p for p in command.params if p.name}
        unknown = sorted(set(table) - set(params))
        if unknown:
            raise UsageError(
                f"{where}: [{name}] has no option {', '.join(unknown)}; it takes "
                f"{', '.join(sorted(params))}"
            )
        out[name] = {key: _value(params[key], value) for key, value in table.items()}
    return out


def _value(param: Any, value: Any) -> Any:
    multiple = bool(getattr(param, "multiple", False))
    if isinstance(value, list) and not multiple:
        return ",".join(map(str, value))
    return value
