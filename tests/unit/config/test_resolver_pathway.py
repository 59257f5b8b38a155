"""Pathway fallback of resolver.Config.get_pathway / explain_pathway (momentum-facts.md §1.5).

Chain: pathway_group::pathway -> pathway -> pathway_group -> global -> default.
"""
from __future__ import annotations

import pytest

from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config

OPTION = "max_receptions_per_connection"

LEVELS = {
    "group_pathway": (1, "pathway_group:pg::pathway:p1"),
    "pathway": (2, "pathway:p1"),
    "group": (3, "pathway_group:pg"),
    "global": (4, "global"),
}
ORDER = list(LEVELS)


def make_config(text: str) -> Config:
    return Config(parse_text(text, "pw.conf"), files=["pw.conf"], warnings=[])


def chain_config(levels: set[str]) -> str:
    def line(level: str) -> str:
        return f"{OPTION} = {LEVELS[level][0]}" if level in levels else ""

    return f"""
{line("global")}
pathway_group "pg" {{
  {line("group")}
  pathway "p1" {{ {line("group_pathway")} }}
}}
pathway "p1" {{ {line("pathway")} }}
pathway "loose" {{ }}
"""


@pytest.mark.parametrize("level", ORDER)
def test_each_level_wins_once_more_specific_levels_are_removed(level):
    config = make_config(chain_config(set(ORDER[ORDER.index(level):])))
    value, path, loc = config.explain_pathway(OPTION, pathway="p1")
    assert (value, path) == LEVELS[level]
    assert config.get_pathway(OPTION, pathway="p1") == LEVELS[level][0]
    assert loc is not None and loc.file == "pw.conf"


def test_nothing_set_gives_registry_default():
    config = make_config(chain_config(set()))
    assert config.explain_pathway(OPTION, pathway="p1") == (0, "default", None)


def test_pathway_outside_any_group_has_no_group_level():
    config = make_config(chain_config(set(ORDER)))
    assert config.explain_pathway(OPTION, pathway="loose")[:2] == (4, "global")


def test_pathways_and_unknown_pathway():
    config = make_config(chain_config(set()))
    assert config.pathways() == ["p1", "loose"]
    with pytest.raises(KeyError, match="did you mean 'p1'"):
        config.get_pathway(OPTION, pathway="P1")
