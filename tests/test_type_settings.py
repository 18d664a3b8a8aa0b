"""A game's settings come from declarations (the core's join rules and each type's own): one place
judges them on the appliance and in the cloud, lists them for the host's form, and docs/protocol.md
states their ranges."""

from __future__ import annotations

import re

import pytest

from engagements.creation import catalogue, new_game
from engagements.model import Rejected
from engagements.plugins import BadType, DuplicateType, load_types
from engagements.settings import JOIN_SETTINGS, Setting
from engagements.types.answer_vote import AnswerVote
from tests.cloudgame import ADMIN as CLOUD_ADMIN
from tests.cloudgame import cloud_stack, dynamodb_endpoint  # noqa: F401  (fixtures)
from tests.conftest import ADMIN
from tests.test_protocol_doc import table_after

TYPES = load_types()


# A prompt each type takes (a type not named takes a line of text).
PROMPT = {"quiz": "One? | *yes | no", "poll": "One? | yes | no"}


def every_setting() -> list[Setting]:
    return [*JOIN_SETTINGS, *(s for kind in TYPES.values() for s in kind.settings)]


def declared_by(setting: Setting) -> str | None:
    """The type that declares `setting` (None: the core's, which every type has)."""
    return next((slug for slug, kind in TYPES.items() if setting in kind.settings), None)


def test_a_new_game_gets_each_declared_setting_or_its_default():
    created = new_game(TYPES, "Night", ["One"], settings={"vote_seconds": 30, "colour": "red"}, now=0)
    assert created.game.type == "answer-vote"  # no type named: the default one
    assert created.game.settings == {
        "question_seconds": 60,
        "vote_seconds": 30,
        "max_players": 10_000,
        "late_join": True,
    }


@pytest.mark.parametrize("setting", every_setting(), ids=lambda s: s.name)
def test_each_setting_refuses_what_its_declaration_does_not_allow(setting):
    slug = declared_by(setting)
    prompts = [PROMPT.get(slug or "", "One")]
    bad = ["yes", 1] if setting.kind == "boolean" else [setting.min - 1, setting.max + 1, 10.5, True, "60"]
    for value in bad:
        with pytest.raises(Rejected) as refused:
            new_game(TYPES, "Night", prompts, slug, settings={setting.name: value}, now=0)
        assert refused.value.message.startswith(setting.name), value
    good = setting.default if setting.kind == "boolean" else setting.max
    game = new_game(TYPES, "N", prompts, slug, settings={setting.name: good}, now=0).game
    assert game.settings[setting.name] == good


def test_a_type_that_claims_the_cores_setting_or_a_timer_without_one_stops_start_up():
    class Greedy(AnswerVote):
        slug = "greedy"
        default = False
        settings = (Setting("max_players", "Seats", "integer", 5, 1, 9),)

    class Untimed(AnswerVote):
        slug = "untimed"
        default = False
        settings = ()

    class Pushy(AnswerVote):
        slug = "pushy"

    for bad, error in ((Greedy, BadType), (Untimed, BadType), (Pushy, DuplicateType)):
        with pytest.raises(error):
            load_types((bad,))


def test_the_declared_default_type_comes_first():
    class Aardvark(AnswerVote):
        slug = "aardvark"
        default = False

    assert list(load_types((Aardvark,)))[:2] == ["answer-vote", "aardvark"]


async def test_the_appliance_lists_the_types_and_their_settings_to_the_admin(http):
    async with http.get("/api/types") as r:
        assert r.status == 401
    async with http.get("/api/types", headers=ADMIN) as r:
        listed = await r.json()
    assert listed == catalogue(TYPES)
    assert listed["default"] == "answer-vote"
    names = {t["slug"]: [s["name"] for s in t["settings"]] for t in listed["types"]}
    assert names["answer-vote"] == ["question_seconds", "vote_seconds"]
    assert [s["name"] for s in listed["settings"]] == ["max_players", "late_join"]
    async with http.post(
        "/api/games", json={"prompts": ["One"], "question_seconds": 601}, headers=ADMIN
    ) as r:
        refused = await r.json()
    assert refused["error"]["message"] == "question_seconds must be a whole number of seconds from 5 to 600."


def test_the_cloud_lists_the_same_types_and_judges_settings_alike(cloud):
    assert cloud.http("GET", "/api/types", None, {})[0] == 401
    status, listed = cloud.http("GET", "/api/types", None, CLOUD_ADMIN)
    assert (status, listed) == (200, catalogue(TYPES))
    status, refused = cloud.http("POST", "/api/games", {"prompts": ["One"], "vote_seconds": 4}, CLOUD_ADMIN)
    assert (status, refused["error"]["message"]) == (
        400,
        "vote_seconds must be a whole number of seconds from 5 to 600.",
    )


def test_the_protocol_doc_states_every_settings_range_and_default():
    documented = {
        re.sub(r"`", "", row[0]): row[1] for row in table_after("### Limits of the settings and fields")
    }
    for s in every_setting():
        if s.kind == "boolean":
            assert f"`{str(s.default).lower()}` (default)" in documented[s.name], s.name
        else:
            assert documented[s.name].startswith(f"{s.min:,} to {s.max:,} (default {s.default:,})"), s.name
