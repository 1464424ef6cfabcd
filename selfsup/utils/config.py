"""Typed configuration from ``key=value`` pairs, YAML files and dataclass defaults.

Every command of the command line and every high-level Python function reads its options through
:func:`build_config`: the defaults are a dataclass, a YAML file given as ``config=run.yaml`` is
merged over them, then the ``key=value`` pairs (nested keys with dots, ``optimizer.lr=0.1``).
Values are parsed as YAML scalars (``0.5`` is a float, ``true`` a bool, ``[0.1,2]`` a list) and
checked against the dataclass types by OmegaConf. An unknown key or a bad value raises a
:class:`ConfigError` that names the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

__all__ = [
    "ConfigError",
    "build_config",
    "check_kwargs",
    "choices",
    "describe_config",
    "describe_kwargs",
    "merge_options",
    "option",
    "parse_overrides",
    "split_known",
    "to_yaml",
]

T = TypeVar("T")


class ConfigError(ValueError):
    """An option is unknown or has a value that its type or its allowed values reject."""


def option(help: str, default: Any = None) -> Any:
    """A dataclass field with a default and the help text ``--help`` shows."""
    return dataclasses.field(default=default, metadata={"help": help})


def choices(values: Iterable[str] | Callable[[], Iterable[str]], default: str, help: str) -> Any:
    """A dataclass field whose value must be one of ``values`` (a list, or a callable giving one).

    Example:
        >>> @dataclasses.dataclass
        ... class Cfg:
        ...     method: str = choices(["simclr", "moco"], "simclr", "SSL method")
    """
    return dataclasses.field(default=default, metadata={"help": help, "choices": values})


def merge_options(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override``'s values; nested dicts (``transform``, ``method_args``, ...)
    are merged key by key at every depth, so an override replaces only the keys it names."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_options(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_overrides(args: Sequence[str]) -> dict[str, Any]:
    """Turns ``["a=1", "b.c=x"]`` into ``{"a": 1, "b": {"c": "x"}}``.

    Values are parsed as YAML (``1`` -> int, ``0.5`` -> float, ``true`` -> bool, ``[1,2]`` ->
    list, ``null`` -> None); anything YAML cannot parse stays a string.

    Raises:
        ConfigError: an argument has no ``=`` or an empty key.
    """
    result: dict[str, Any] = {}
    for arg in args:
        key, sep, raw = arg.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"key {key!r} sets a field inside {part!r}, which is a value")
            node = child
        node[parts[-1]] = value
    return result


def _allowed(field: dataclasses.Field) -> list[str] | None:
    values = field.metadata.get("choices")
    if values is None:
        return None
    return list(values() if callable(values) else values)


def _check_choices(config: Any, prefix: str = "") -> None:
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value):
            _check_choices(value, prefix=f"{key}.")
            continue
        allowed = _allowed(field)
        if allowed is not None and value not in allowed:
            hint = ""
            if value in ("True", "False"):
                hint = " (YAML reads yes, no, on, off, true and false as booleans)"
            raise ConfigError(
                f"invalid value {value!r} for {key!r}{hint}; allowed: {', '.join(allowed)}"
            )


def _nested_schema(schema: type, field: dataclasses.Field) -> type | None:
    """The dataclass type of a field that holds a nested config, else None."""
    hint = typing.get_type_hints(schema).get(field.name)
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def _field_keys(schema: type, prefix: str = "") -> list[str]:
    keys = []
    for field in dataclasses.fields(schema):
        nested = _nested_schema(schema, field)
        if nested is not None:
            keys.extend(_field_keys(nested, prefix=f"{prefix}{field.name}."))
        else:
            keys.append(f"{prefix}{field.name}")
    return keys


def split_known(schema: type, overrides: Mapping[str, Any]) -> tuple[dict, dict]:
    """Splits top-level ``overrides`` into the schema's own keys and the rest."""
    own = {f.name for f in dataclasses.fields(schema)}
    known = {k: v for k, v in overrides.items() if k in own}
    extra = {k: v for k, v in overrides.items() if k not in own}
    return known, extra


def build_config(
    schema: type[T],
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    command: str = "selfsup",
) -> T:
    """Builds a ``schema`` dataclass instance from its defaults, a YAML file and overrides.

    Args:
        schema: A dataclass type whose fields (with defaults) are the options.
        overrides: Nested mapping of option values, e.g. from :func:`parse_overrides`.
        config_file: Optional YAML file merged before ``overrides``.
        command: Name used in error messages, e.g. ``"selfsup preview"``.

    Returns:
        An instance of ``schema``.

    Raises:
        ConfigError: unknown key, wrong type, or a value outside a field's choices.
    """
    base = OmegaConf.structured(schema)
    layers = []
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist")
        try:
            layers.append(OmegaConf.create(yaml.safe_load(path.read_text()) or {}))
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {error}") from None
    if overrides:
        layers.append(OmegaConf.create(dict(overrides)))
    try:
        merged = OmegaConf.merge(base, *layers)
        config = OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or ""
        if isinstance(error, ConfigKeyError):
            allowed = ", ".join(_field_keys(schema))
            raise ConfigError(
                f"unknown key {key!r} for {command!r}; allowed keys: {allowed}"
            ) from None
        reason = str(error).splitlines()[0]
        raise ConfigError(f"invalid value for {key!r} in {command!r}: {reason}") from None
    _check_choices(config)
    return config


def describe_config(schema: type, prefix: str = "") -> list[tuple[str, str, str]]:
    """Lists ``(key, default, help)`` for every option of ``schema``, nested keys dotted."""
    rows = []
    for field in dataclasses.fields(schema):
        key = f"{prefix}{field.name}"
        nested = _nested_schema(schema, field)
        if nested is not None:
            rows.extend(describe_config(nested, prefix=f"{key}."))
            continue
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = "(required)"
        help_text = field.metadata.get("help", "")
        allowed = _allowed(field)
        if allowed is not None:
            help_text = f"{help_text} (one of: {', '.join(allowed)})"
        rows.append((key, repr(default) if isinstance(default, str) else str(default), help_text))
    return rows


def describe_kwargs(fn: Callable) -> list[tuple[str, str, str]]:
    """Lists ``(key, default, "")`` for the keyword arguments of a callable (e.g. a transform)."""
    rows = []
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = "(required)" if param.default is param.empty else repr(param.default)
        rows.append((name, default, ""))
    return rows


def _coerce(key: str, value: Any, default: Any, owner: str) -> Any:
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(
                f"invalid value {value!r} for {key!r} of {owner}: expected true/false"
            )
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"invalid value {value!r} for {key!r} of {owner}: expected a number")
        return float(value) if isinstance(default, float) else value
    if isinstance(default, (tuple, list)):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"invalid value {value!r} for {key!r} of {owner}: expected a list")
        return type(default)(value)
    if isinstance(default, str) and not isinstance(value, str):
        return str(value)
    return value


def check_kwargs(
    fn: Callable, kwargs: Mapping[str, Any], *, owner: str, also_allowed: Sequence[str] = ()
) -> dict[str, Any]:
    """Checks ``kwargs`` against ``fn``'s signature and coerces them to its defaults' types.

    Used for options that are a class's constructor arguments (a transform's, for example).
    ``also_allowed`` names other keys the caller accepts, listed in the error message.

    Raises:
        ConfigError: a key is not an argument of ``fn`` (the message lists the allowed ones), or a
            value does not fit the type of that argument's default.
    """
    params = {
        name: p
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    checked = {}
    for key, value in kwargs.items():
        if key not in params:
            allowed = ", ".join([*also_allowed, *params])
            raise ConfigError(f"unknown key {key!r} for {owner}; allowed keys: {allowed}")
        default = params[key].default
        checked[key] = _coerce(key, value, None if default is params[key].empty else default, owner)
    return checked


def to_yaml(config: Any) -> str:
    """Serialises a config dataclass (or mapping) to YAML text."""
    return OmegaConf.to_yaml(OmegaConf.structured(config))
