"""Issue 8's rules for a room hold in the cloud too: the same seats, bans, caps and text as the appliance."""

from __future__ import annotations

import json

from cloud.handlers import http as http_handler
from engagements import items
from tests.cloudgame import ADMIN, cloud_stack, dynamodb_endpoint  # noqa: F401  (fixtures)
from tests.cloudstandin import http_event

CLIENT = "client-id-0123456789"
DEVICE = "device-id-0123456789"


def join(cloud, created, nickname, address="127.0.0.1", **ids):
    """POST /api/join as a phone at `address` would send it: (status, body)."""
    return cloud.http(
        "POST", "/api/join", {"code": created["code"], "nickname": nickname, **ids}, address=address
    )


def meta(cloud, created):
    return cloud.rt.run(cloud.rt.games.meta(created["game_id"]))


def test_a_retried_join_gets_its_seat_back(cloud):
    created = cloud.create(["One"])
    first = join(cloud, created, "Ann", client_id=CLIENT)
    again = join(cloud, created, "Ann", client_id=CLIENT)
    assert first[0] == again[0] == 200
    assert again[1]["player_id"] == first[1]["player_id"]
    assert again[1]["player_token"] == first[1]["player_token"]
    assert meta(cloud, created)[items.ACTIVE] == 1
    other = join(cloud, created, "Ann", client_id="another-client-0123456789")
    assert (other[0], other[1]["error"]["code"]) == (409, "nickname_taken")
    flipped = join(cloud, created, "\u202eevil", client_id="third-client-0123456789")
    assert (flipped[0], flipped[1]["error"]["code"]) == (400, "invalid")  # the text rule, as on the appliance
    malformed = join(cloud, created, "Bob", client_id="short")
    assert (malformed[0], malformed[1]["error"]["code"]) == (400, "invalid")


def test_a_kick_bans_the_device_and_the_address(cloud):
    created = cloud.create(["One"])
    host = cloud.host(created)
    neighbour = join(cloud, created, "Cy", "10.0.0.7", device_id="neighbour-device-0123")
    status, ann = join(cloud, created, "Ann", "10.0.0.7", device_id=DEVICE)
    assert status == neighbour[0] == 200
    host.ok("kick", player=ann["player_id"])

    again = join(cloud, created, "Annie", "10.0.0.9", device_id=DEVICE)
    assert (again[0], again[1]["error"]["code"]) == (403, "kicked")
    cleared = join(cloud, created, "Anne", "10.0.0.7", device_id="fresh-device-0123456")
    assert (cleared[0], cleared[1]["error"]["code"]) == (403, "kicked")
    seated = join(cloud, created, "Cyril", "10.0.0.7", device_id="neighbour-device-0123")
    assert seated[0] == 200  # a device seated before the kick is spared the address ban
    elsewhere = join(cloud, created, "Dee", "10.0.0.8", device_id="other-device-01234567")
    assert elsewhere[0] == 200


def test_the_player_cap_and_late_joins_are_the_games_settings(cloud):
    created = cloud.create(["One"], max_players=2, late_join=False)
    host = cloud.host(created)
    ann = cloud.join(created, "Ann")
    assert join(cloud, created, "Bob")[0] == 200
    full = join(cloud, created, "Cy")
    assert (full[0], full[1]["error"]["code"]) == (403, "full")
    host.ok("kick", player=ann.player)  # a kicked player's seat is given back
    assert join(cloud, created, "Cy", "10.0.0.5")[0] == 200  # (another address: Ann's is banned)
    assert meta(cloud, created)[items.ACTIVE] == 2

    open_game = cloud.create(["One"], late_join=False)
    cloud.join(open_game, "Ann")
    cloud.host(open_game).ok("start")
    late = join(cloud, open_game, "Bob")
    assert (late[0], late[1]["error"]["code"]) == (403, "started")


def test_only_seats_whose_phone_connected_hold_a_phase_open(cloud):
    created = cloud.create(["One"])
    host = cloud.host(created)
    phones = []
    for nickname in ("Ann", "Bob", "Ghost"):  # the ghost's phone never connects
        status, joined = join(cloud, created, nickname)
        assert status == 200
        phones.append(joined)
    found = meta(cloud, created)
    assert (found[items.ACTIVE], found.get(items.SEATED, 0)) == (3, 0)  # counted at hello, not at join
    views = []
    for joined in (phones[0], phones[0], phones[1]):  # Ann opens two tabs: her seat counts once
        view = cloud.connect(created["game_id"])
        view.send("hello", token=joined["player_token"], view="player")
        assert view.last("snapshot")["you"]["player"]["id"] == joined["player_id"]
        views.append(view)
    ann, _, bob = views
    found = meta(cloud, created)
    assert (found[items.ACTIVE], found[items.SEATED]) == (3, 2)
    host.ok("start")
    ann.ok("answer", round=0, text="Mine")
    bob.ok("answer", round=0, text="Yours")
    assert host.last("phase_changed")["phase"] == "voting"  # closed without waiting for the ghost


def test_creating_a_game_follows_the_appliances_rules(cloud):
    def create(body, headers=ADMIN):
        return cloud.http("POST", "/api/games", body, headers)

    status, refused = create({"title": "Night", "prompts": ["One"]}, {})
    assert (status, refused["error"]["code"]) == (401, "unauthorized")
    status, refused = create({"title": "\x1b]0;pwned\x07", "prompts": ["One"]})
    assert (status, refused["error"]["code"]) == (400, "invalid")
    status, refused = create({"prompts": ["One", ""]})
    assert status == 400 and refused["error"]["message"].startswith("Prompt 2:")
    status, refused = create({"prompts": ["One"], "max_players": 0})
    assert status == 400 and "max_players" in refused["error"]["message"]
    status, created = create({"title": "  Quiz \t night ", "prompts": ["One"], "max_players": 5})
    assert status == 201
    assert meta(cloud, created)["title"] == "Quiz night"

    deep = http_event("POST", "/api/games", None, ADMIN)
    deep["body"] = "[" * 3000 + "]" * 3000
    reply = http_handler.handler(deep, None)
    assert (reply["statusCode"], json.loads(reply["body"])["error"]["code"]) == (400, "bad_message")
    plain = http_event("POST", "/api/games", {"prompts": ["One"]}, {**ADMIN, "content-type": "text/plain"})
    assert http_handler.handler(plain, None)["statusCode"] == 415
