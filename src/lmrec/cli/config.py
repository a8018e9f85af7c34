"""The config file's tables as the defaults of the commands' options (click's default map),
checked against the options each command has."""

from __future__ import annotations

from typing import Any

import typer

from lmrec.errors import UsageError
from lmrec.search_space import Space

__all__ = ["command_defaults", "tuning_spaces"]

#: Tables the commands do not take as option defaults (``serve`` reads its own table through
#: its settings, see :mod:`lmrec.service.settings`).
_OWN_SETTINGS = {"serve"}
#: Tables that are not a command's: ``[tuning.MODEL]``, what ``evaluate --search tpe`` may try
#: for that model (:func:`tuning_spaces`).
_NOT_COMMANDS = {"tuning"}


def command_defaults(config: dict[str, Any], ctx: typer.Context, where: str) -> dict[str, Any]:
    """``config``'s tables for the commands of ``ctx``'s group (nested tables for sub-groups,
    such as ``[data.split]``), each key an option of that command; lists become
    comma-separated."""
    return _defaults(config, ctx.command, ctx, where)


def _defaults(config: dict[str, Any], group: Any, ctx: typer.Context, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = group.list_commands(ctx)
    for name, table in config.items():
        if name in _NOT_COMMANDS and group is ctx.command:
            continue
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


def tuning_spaces(ctx: typer.Context, names: list[str]) -> dict[str, Space]:
    """The config file's ``[tuning.MODEL]`` tables for the models of ``names``, as spaces
    that replace those parts of each model's declared tuning space (every table is checked:
    a model that does not exist, or a parameter it does not take, is an error)."""
    from lmrec.config import read_config_table
    from lmrec.models.registry import create_model, model_names
    from lmrec.search_space import space_from_table

    root = ctx.find_root().obj
    file = root.get("config") if isinstance(root, dict) else None
    if file is None:
        return {}
    out: dict[str, Space] = {}
    for model, table in read_config_table("tuning", file).items():
        where = f"{file} [tuning.{model}]"
        if model not in model_names():
            raise UsageError(f"{where}: no model '{model}'; known: {', '.join(model_names())}")
        if not isinstance(table, dict):
            raise UsageError(f"{where} must be a table")
        space = space_from_table(table, where)
        takes = create_model(model).get_params()
        unknown = sorted(set(space) - set(takes))
        if unknown:
            raise UsageError(
                f"{where}: {model} has no parameter {', '.join(unknown)}; it takes "
                f"{', '.join(sorted(takes))}"
            )
        if model in names:
            out[model] = space
    return out
