"""The ``selfsup`` command: ``selfsup <command> key=value ...``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from selfsup.cli.commands import COMMANDS, Command
from selfsup.utils.config import ConfigError, describe_config, parse_overrides

__all__ = ["main"]

_USAGE = """usage: selfsup <command> [key=value ...] [config=FILE.yaml]
       selfsup <command> --help

commands:
{commands}
"""


def _print_usage(stream=None) -> None:
    stream = sys.stdout if stream is None else stream
    width = max(len(name) for name in COMMANDS)
    lines = "\n".join(f"  {name:<{width}}  {cmd.summary}" for name, cmd in COMMANDS.items())
    print(_USAGE.format(commands=lines), file=stream, end="")


def _print_help(command: Command, options: dict) -> None:
    rows = describe_config(command.schema) + command.extra_help(options)
    width = max(len(key) for key, _, _ in rows)
    print(f"usage: selfsup {command.name} [key=value ...] [config=FILE.yaml]\n")
    print(f"{command.summary}\n\noptions (key=value, default):")
    for key, default, help_text in rows:
        print(f"  {key:<{width}}  {default:<14}  {help_text}".rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        _print_usage()
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"selfsup: unknown command {name!r}", file=sys.stderr)
        _print_usage(sys.stderr)
        return 2
    command = COMMANDS[name]
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        wants_help = any(arg in ("-h", "--help") for arg in rest)
        options = parse_overrides([arg for arg in rest if arg not in ("-h", "--help")])
        options = command.with_config_file(options)
        if wants_help:
            _print_help(command, options)
            return 0
        command.run(options)
    except (ConfigError, ValueError, OSError, ImportError, FloatingPointError) as error:
        print(f"selfsup {name}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
