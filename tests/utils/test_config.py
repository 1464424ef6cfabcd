import dataclasses

import pytest

from selfsup.utils.config import (
    ConfigError,
    build_config,
    check_kwargs,
    choices,
    describe_config,
    merge_options,
    parse_overrides,
    to_yaml,
)


@dataclasses.dataclass
class _Optimizer:
    lr: float = 0.1
    name: str = choices(["sgd", "adamw"], "sgd", "optimizer")


@dataclasses.dataclass
class _Config:
    data: str | None = None
    epochs: int = 10
    flag: bool = False
    optimizer: _Optimizer = dataclasses.field(default_factory=_Optimizer)


def test_parse_overrides_types_and_nesting():
    parsed = parse_overrides(["a=1", "b=0.5", "c=true", "d=[0.1, 2]", "e=text", "f.g=null", "h="])
    assert parsed == {
        "a": 1,
        "b": 0.5,
        "c": True,
        "d": [0.1, 2],
        "e": "text",
        "f": {"g": None},
        "h": "",
    }


@pytest.mark.parametrize("arg", ["novalue", "=3"])
def test_parse_overrides_rejects_malformed(arg):
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_overrides([arg])


def test_build_config_defaults_and_overrides():
    config = build_config(_Config, parse_overrides(["epochs=3", "optimizer.lr=1", "flag=true"]))
    assert config == _Config(epochs=3, flag=True, optimizer=_Optimizer(lr=1.0))
    assert isinstance(config.optimizer.lr, float)


def test_build_config_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("epochs: 7\noptimizer:\n  name: adamw\n  lr: 0.5\n")
    config = build_config(_Config, {"optimizer": {"lr": 0.2}}, config_file=path)
    assert (config.epochs, config.optimizer.name, config.optimizer.lr) == (7, "adamw", 0.2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["epoch=3"],
            r"unknown key 'epoch' for 'cmd'; allowed keys: data, epochs, flag, optimizer.lr",
        ),
        (["optimizer.momentum=0.9"], r"unknown key 'optimizer.momentum'"),
        (["epochs=many"], r"invalid value for 'epochs'"),
        (
            ["optimizer.name=lamb"],
            r"invalid value 'lamb' for 'optimizer.name'; allowed: sgd, adamw",
        ),
        (
            ["optimizer.name=yes"],
            r"invalid value 'True' for 'optimizer.name' \(YAML reads yes, no, on, off, true and "
            r"false as booleans\); allowed: sgd, adamw",
        ),
    ],
)
def test_build_config_errors_name_the_key(args, message):
    with pytest.raises(ConfigError, match=message):
        build_config(_Config, parse_overrides(args), command="cmd")


def test_build_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build_config(_Config, config_file=tmp_path / "nope.yaml")


def test_describe_config_lists_every_key_with_default():
    rows = {key: (default, help_text) for key, default, help_text in describe_config(_Config)}
    assert list(rows) == ["data", "epochs", "flag", "optimizer.lr", "optimizer.name"]
    assert rows["epochs"][0] == "10"
    assert "one of: sgd, adamw" in rows["optimizer.name"][1]


def _transform(input_size=224, sigmas=(0.1, 2.0), prob=0.5, normalize=None, flag=False):
    return input_size, sigmas, prob, normalize, flag


def test_check_kwargs_coerces_to_default_types():
    checked = check_kwargs(
        _transform, {"sigmas": [0.2, 1], "prob": 1, "normalize": None}, owner="t"
    )
    assert checked == {"sigmas": (0.2, 1), "prob": 1.0, "normalize": None}
    assert isinstance(checked["sigmas"], tuple) and isinstance(checked["prob"], float)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"blur": 0}, r"unknown key 'blur' for t; allowed keys: n, input_size, sigmas"),
        ({"prob": "high"}, r"invalid value 'high' for 'prob' of t: expected a number"),
        ({"flag": 1}, r"expected true/false"),
        ({"sigmas": 3}, r"expected a list"),
    ],
)
def test_check_kwargs_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        check_kwargs(_transform, kwargs, owner="t", also_allowed=["n"])


def test_to_yaml_round_trips():
    import yaml

    assert yaml.safe_load(to_yaml(_Config(epochs=4)))["epochs"] == 4


def test_merge_options_replaces_only_the_keys_the_override_names_at_every_depth():
    base = {"epochs": 15, "method_args": {"a": 1, "kwargs": {"x": 1, "y": 2}}, "tags": [1]}
    override = {"method_args": {"kwargs": {"y": 3}}, "tags": [2], "lr": 0.1}
    assert merge_options(base, override) == {
        "epochs": 15,
        "method_args": {"a": 1, "kwargs": {"x": 1, "y": 3}},
        "tags": [2],
        "lr": 0.1,
    }
    assert base["method_args"]["kwargs"] == {"x": 1, "y": 2}
    assert merge_options({"transform": None}, {"transform": {"a": 1}}) == {"transform": {"a": 1}}
