"""Things that must stay true as the project grows: documented settings, safe defaults, fixtures."""

from __future__ import annotations

from pathlib import Path

from crawler import settings
from crawler.runner import project_settings, spider_names

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_watch_setting_is_in_readme() -> None:
    for setting in settings.WATCH_SETTINGS:
        assert f"`{setting.name}`" in README, setting.name
        assert f"`{setting.env}`" in README, setting.env


def test_code_executing_servers_are_off() -> None:
    loaded = project_settings()
    assert loaded.getbool("REMOTE_CONTROL_ENABLED") is False
    assert loaded.getbool("TELNETCONSOLE_ENABLED") is False
    assert loaded.getbool("ROBOTSTXT_OBEY") is True
    assert "mailto:" in loaded.get("USER_AGENT")


def test_every_spider_has_fixtures_notes_and_a_test() -> None:
    from scrapy.spiderloader import SpiderLoader

    names = SpiderLoader.from_settings(project_settings()).list()
    assert {"tweedekamer", "feed", "page"} <= set(names)
    assert "feed" not in spider_names()  # generic spiders serve researcher-added sources
    for name in names:
        assert (ROOT / "tests" / "fixtures" / name / "NOTES.md").exists(), name
        assert (ROOT / "tests" / f"test_spider_{name}.py").exists(), name


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = quick.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line and not line.startswith("#")][-1] == "make test"
