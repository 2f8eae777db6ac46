"""config.toml validation: errors name the key and the file; the example stays in sync."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import (
    ConfigError,
    load_config,
    load_config_text,
    parse_value,
    register_section,
    setting,
)
from bot.config_doc import example_config

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class _Demo:
    """A section only these tests use."""

    enabled: bool = setting(False, "Turn it on.")
    token_env: str = setting("DEMO_TOKEN", "Env var with the token.", secret_env=True)
    limit: int = setting(5, "A number.")
    words: list[str] = setting([], "Some words.")


register_section("testdemo", _Demo)


@pytest.mark.parametrize(
    "text,needle",
    [
        ('[bot]\nlangauge = "en"\n', "unknown key 'langauge'"),
        ("[nosuch]\nx = 1\n", "unknown section [nosuch]"),
        ('[testdemo]\nlimit = "five"\n', "key 'limit' must be int"),
        ("[testdemo]\nlimit = true\n", "key 'limit' must be int"),
        ("[testdemo]\nwords = [1, 2]\n", "key 'words' must be list[str]"),
        ('[bot]\nlanguage = "fr"\n', "key 'language' must be 'en' or 'zh-CN'"),
        ('[bot]\ntimezone = "Mars/Base"\n', "not a known time zone"),
        ("[bot\n", "not valid TOML"),
        ('[[groups]]\nplatform = "telegram"\n', "missing key 'id'"),
        ('[[groups]]\nplatform = "telegram"\nid = "1"\ncolour = "red"\n', "unknown key 'colour'"),
        ('[[groups]]\nplatform = "telegram"\nid = "1"\n[groups.bot]\nlanguage = 5\n', "key 'language' must be str"),
    ],
)
def test_errors_name_key_and_file(text, needle):
    with pytest.raises(ConfigError) as err:
        load_config_text(text, "my.toml")
    assert needle in str(err.value) and "my.toml" in str(err.value)


def test_missing_secret_is_named(monkeypatch):
    monkeypatch.delenv("DEMO_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="DEMO_TOKEN"):
        load_config_text("[testdemo]\nenabled = true\n")
    monkeypatch.setenv("DEMO_TOKEN", "s3cret")
    cfg = load_config_text("[testdemo]\nenabled = true\n")
    assert cfg.secret("testdemo", "token_env") == "s3cret"


def test_group_overrides_and_stored_overrides():
    cfg = load_config_text(
        '[bot]\nlanguage = "en"\n[[groups]]\nplatform = "telegram"\nid = "-100"\nlanguage = "zh-CN"\n'
        '[groups.testdemo]\nlimit = 9\n'
    )
    assert cfg.for_group("bot", "telegram", "-100").language == "zh-CN"
    assert cfg.for_group("bot", "telegram", "-200").language == "en"
    assert cfg.for_group("testdemo", "telegram", "-100").limit == 9
    assert cfg.for_group("testdemo", "telegram", "-100", {"testdemo.limit": 3}).limit == 3


def test_parse_value_from_chat():
    assert parse_value(_Demo, "limit", "7") == 7
    assert parse_value(_Demo, "enabled", "true") is True
    assert parse_value(_Demo, "words", "a, b") == ["a", "b"]
    with pytest.raises(ConfigError, match="must be int"):
        parse_value(_Demo, "limit", "lots")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_example_config_is_current_and_valid():
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    generated = "\n".join(line for line in example_config().splitlines() if "testdemo" not in line)
    # the test-only section above is registered in this process; the file is generated without it
    assert all(line in generated.splitlines() for line in text.splitlines() if line.strip()), (
        "config.example.toml is out of date: run `communitybot example-config > config.example.toml`"
    )
    load_config(ROOT / "config.example.toml", require_secrets=False)
