"""Question packs: each type's JSON and CSV, Kahoot! spreadsheets for the quiz, the sample packs, and a
game's questions exported as a pack that imports back to the same game, on both runtimes.

The spreadsheets are built here with openpyxl, laid out as Kahoot's template is (title rows above the
header, a numbering column before the questions).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import openpyxl
import pytest

from engagements.creation import new_game
from engagements.packs import PACKS_DIR, PackError, export_pack, parse_pack, parse_upload, sample_packs
from engagements.plugins import load_types
from tests.conftest import ADMIN, pack_upload

TYPES = load_types()
QUIZ = TYPES["quiz"]
KAHOOT_HEADER = (
    "",
    "Question - max 120 characters",
    "Answer 1 - max 75 characters",
    "Answer 2 - max 75 characters",
    "Answer 3 - max 75 characters",
    "Answer 4 - max 75 characters",
    "Time limit (sec) \u2013 5, 10, 20, 30, 60, 90, 120, or 240 secs",
    "Correct answer(s) - choose at least one",
)
KAHOOT_ROWS = [
    (1, "Capital of France?", "Lyon", "Paris", "Nice", "Lille", 30, 2),
    (2, "The sun is a star", "True", "False", None, None, 30, "1"),
    (3, "Year of the moon landing?", 1969, 1972, None, None, 30, 1),
]


def kahoot(rows: list[tuple[Any, ...]], title: str = "Space and places") -> bytes:
    """A workbook as Kahoot's template lays it out: title and instructions, then the header on row 8."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Quiz template"])
    sheet.append([title])
    for _ in range(5):
        sheet.append([])
    sheet.append(KAHOOT_HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refusal(data: bytes | str, filename: str, chosen: str | None = None) -> str:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(PackError) as caught:
        parse_pack(raw, filename, TYPES, chosen)
    return str(caught.value)


# -- text prompts (answer-vote): the default hook ---------------------------------------------------


def test_a_text_pack_reads_from_json_csv_with_a_header_and_csv_without_one():
    doc = {"title": "Office", "prompts": ["First", {"prompt": "Second"}, "  "]}
    pack = parse_pack(json.dumps(doc).encode(), "office.json", TYPES)
    assert pack == {
        "type": "answer-vote",
        "types": ["answer-vote"],
        "title": "Office",
        "prompts": ["First", "Second"],
        "settings": {},
        "notes": [],
    }
    assert parse_pack(b'text,notes\nFirst,x\n"Second, with a comma",y\n', "a.csv", TYPES)["prompts"] == [
        "First",
        "Second, with a comma",
    ]
    plain = parse_pack(b"First\n\nSecond\n", "my_pack.csv", TYPES)
    assert (plain["title"], plain["prompts"]) == ("My Pack", ["First", "Second"])


# -- the quiz: JSON objects or lines, CSV columns question,a..f,answer --------------------------------


def test_a_quiz_pack_in_json_takes_objects_and_lines_and_its_time():
    doc = {
        "type": "quiz",
        "title": "Mixed",
        "settings": {"quiz_seconds": 45},
        "prompts": [
            {"question": "Capital of France?", "options": ["Lyon", "Paris"], "answer": "Paris"},
            {"question": "The sun is a star", "answer": True},
            "How many legs has a spider? | 6 | *8",
        ],
    }
    pack = parse_pack(json.dumps(doc).encode(), "mixed.json", TYPES, "answer-vote")  # its own type wins
    assert pack["type"] == "quiz" and pack["settings"] == {"quiz_seconds": 45}
    assert pack["prompts"] == [
        "Capital of France? | Lyon | *Paris",
        "The sun is a star | true",
        "How many legs has a spider? | 6 | *8",
    ]


def test_a_quiz_csv_has_option_columns_and_the_answers_letter():
    csv = (
        "question,a,b,c,d,e,f,answer\n"
        "Capital of France?,Lyon,Paris,Nice,,,,B\n"
        "The sun is a star,,,,,,,true\n"
        "Six options,1,2,3,4,5,6,f\n"
        "Old shape | *yes | no,,,,,,,\n"
        'A prime?,2,3,4,,,,"a, b"\n'
    )
    pack = parse_pack(csv.encode(), "quiz.csv", TYPES, "quiz")
    assert pack["type"] == "quiz"
    assert pack["prompts"] == [
        "Capital of France? | Lyon | *Paris | Nice",
        "The sun is a star | true",
        "Six options | 1 | 2 | 3 | 4 | 5 | *6",
        "Old shape | *yes | no",
        "A prime? | *2 | *3 | 4",
    ]


MIXED_PACK = {  # a quiz pack with a poll and a party round in it
    "type": "quiz",
    "title": "Pub night",
    "settings": {"quiz_seconds": 15, "vote_seconds": 30},
    "prompts": [
        "Capital of France? | Lyon | *Paris",
        {"type": "poll", "question": "Best snack?", "options": ["Crisps", "Nuts"]},
        "[answer-vote] A bad name for a pub",
    ],
}


def test_a_json_pack_whose_prompts_name_other_types_makes_a_mixed_game_with_each_types_settings():
    doc = {**MIXED_PACK, "prompts": [*MIXED_PACK["prompts"], {"type": "bingo", "prompt": "?"}]}
    assert "In prompt number 4: no installed type is called 'bingo'" in refusal(json.dumps(doc), "p.json")
    doc["prompts"].pop()
    pack = parse_pack(json.dumps(doc).encode(), "p.json", TYPES)
    assert pack["types"] == ["quiz", "poll", "answer-vote"]
    assert pack["prompts"][0] == "Capital of France? | Lyon | *Paris"
    assert pack["prompts"][1].startswith("[poll] Best snack?")
    assert pack["prompts"][2] == "[answer-vote] A bad name for a pub"
    assert pack["settings"] == {"quiz_seconds": 15, "vote_seconds": 30}
    game = new_game(TYPES, pack["title"], pack["prompts"], pack["type"], pack["settings"], now=0).game
    assert [game.round_type(r) for r in range(3)] == ["quiz", "poll", "answer-vote"]
    assert export_pack(game, TYPES)["prompts"][2] == "[answer-vote] A bad name for a pub"
    again = parse_pack(json.dumps(export_pack(game, TYPES)).encode(), "again.json", TYPES)
    assert again["prompts"] == pack["prompts"] and again["settings"]["quiz_seconds"] == 15


def test_a_csv_type_column_chooses_the_type_and_a_row_of_another_makes_a_mixed_game():
    csv = "type,question,a,b,answer\nquiz,Two plus two?,4,5,a\n"
    assert parse_pack(csv.encode(), "q.csv", TYPES, "answer-vote")["type"] == "quiz"
    mixed = "type,question,a,b,answer\nquiz,Q?,4,5,a\nanswer-vote,Q2?,,,\n,Q3?,6,7,b\n"
    pack = parse_pack(mixed.encode(), "q.csv", TYPES)
    assert (pack["type"], pack["types"]) == ("quiz", ["quiz", "answer-vote"])
    assert pack["prompts"] == ["Q? | *4 | 5", "[answer-vote] Q2?", "Q3? | 6 | *7"]
    assert "has not got: bingo" in refusal("type,prompt\nbingo,Hello\n", "q.csv")


def test_every_bad_row_of_a_quiz_csv_is_named_with_its_reason():
    csv = (
        "question,a,b,c,d,e,f,answer\n"
        "Fine?,yes,no,,,,,a\n"
        "No answer?,yes,no,,,,,\n"  # row 3
        "\n"
        "Beyond the options?,yes,no,,,,,c\n"  # row 5
        "A gap?,yes,,maybe,,,,a\n"  # row 6
        "One option?,yes,,,,,,a\n"  # row 7
    )
    message = refusal(csv, "bad.csv", "quiz")
    assert message.startswith("Row 3: Put the correct option's letter")
    assert "Row 5: The answer 'c' names no option" in message
    assert "Row 6: Fill the options from column a on" in message
    assert "Row 7: A quiz question has 2 to 6 options" in message
    assert "Row 2" not in message


def test_a_packs_settings_are_its_types_own_and_in_range():
    def pack(settings: dict[str, Any]) -> str:
        return json.dumps({"type": "quiz", "settings": settings, "prompts": ["Q | true"]})

    assert "max_players is not a setting of Quiz games" in refusal(pack({"max_players": 5}), "q.json")
    assert "quiz_seconds must be a whole number of seconds from 5 to 300" in refusal(
        pack({"quiz_seconds": 1}), "q.json"
    )


# -- Kahoot! spreadsheets ----------------------------------------------------------------------------


def test_a_kahoot_spreadsheet_becomes_quiz_questions_with_its_time_limit():
    pack = parse_pack(kahoot(KAHOOT_ROWS), "kahoot.xlsx", TYPES, "answer-vote")
    assert pack == {
        "type": "quiz",
        "types": ["quiz"],
        "title": "Space and places",
        "prompts": [
            "Capital of France? | Lyon | *Paris | Nice | Lille",
            "The sun is a star | true",
            "Year of the moon landing? | *1969 | 1972",
        ],
        "settings": {"quiz_seconds": 30},
        "notes": [],
    }


def test_a_kahoot_row_with_several_correct_answers_accepts_each_of_them():
    pack = parse_pack(kahoot([(1, "A prime number?", 2, 3, 4, 9, 20, "1, 2")]), "primes.xlsx", TYPES)
    assert pack["prompts"] == ["A prime number? | *2 | *3 | 4 | 9"]
    assert QUIZ.parse_prompt(pack["prompts"][0])["answer"] == [0, 1]


def test_differing_kahoot_time_limits_give_the_longest_and_say_so():
    rows = [(*row[:6], seconds, row[7]) for row, seconds in zip(KAHOOT_ROWS, (10, 60, None), strict=True)]
    pack = parse_pack(kahoot(rows), "kahoot.xlsx", TYPES)
    assert pack["settings"] == {"quiz_seconds": 60}
    assert pack["notes"] == [
        "The time limits differ (10 to 60 s); a game gives every question the same time, so every "
        "question gets 60 s."
    ]
    slow = [(*row[:6], 600, row[7]) for row in KAHOOT_ROWS]
    pack = parse_pack(kahoot(slow), "kahoot.xlsx", TYPES)
    assert pack["settings"] == {"quiz_seconds": 300}
    assert pack["notes"] == ["A question's time is 5 to 300 s here: 600 s became 300 s."]


def test_every_bad_kahoot_row_is_named_by_its_row_number():
    rows = [
        KAHOOT_ROWS[0],  # row 9, fine
        (2, "One right, one beyond?", "a", "b", "c", None, 20, "1,5"),  # row 10
        (3, "Beyond?", "a", "b", None, None, 20, 4),  # row 11
        (4, "Slow?", "a", "b", None, None, "soon", 1),  # row 12
        (5, "Gap?", "a", None, "c", None, 20, 1),  # row 13
        (6, "None right?", "a", "b", None, None, 20, None),  # row 14
        (7, "x" * 201, "a", "b", None, None, 20, 1),  # row 15: our own limit, from the quiz's rules
    ]
    message = refusal(kahoot(rows), "bad.xlsx")
    assert "Row 9" not in message
    for row, reason in [
        (10, "the number of a filled answer (1 to 3)"),
        (11, "the number of a filled answer (1 to 2)"),
        (12, "whole number of seconds, not 'soon'"),
        (13, "Fill the answers from Answer 1 on"),
        (14, "Say which answer is correct"),
    ]:
        assert f"Row {row}: " in message and reason in message, (row, message)
    assert message.endswith("(and 1 more).")


def test_files_that_are_not_kahoot_spreadsheets_are_refused_plainly():
    assert "not an .xlsx spreadsheet" in refusal(b"question,a\n", "fake.xlsx")
    book = openpyxl.Workbook()
    book.active.append(["Just", "a", "table"])
    out = io.BytesIO()
    book.save(out)
    assert "No Kahoot! header row found" in refusal(out.getvalue(), "plain.xlsx")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/huge.xml", b"0" * (9 * 1024 * 1024))
    assert len(bomb.getvalue()) < 64 * 1024
    assert "unpacks to more than 8 MB" in refusal(bomb.getvalue(), "bomb.xlsx")
    assert "cannot be read from a .xlsx file" not in refusal(kahoot([]), "empty.xlsx")  # the quiz reads it


def test_an_upload_is_json_with_the_file_in_base64():
    pack = parse_upload(pack_upload(kahoot(KAHOOT_ROWS), "k.xlsx", type="quiz"), TYPES)
    assert len(pack["prompts"]) == 3
    for body, says in [
        ({"filename": "k.csv", "data": "not base64!"}, "base64"),
        ({"filename": "k.csv"}, "Send the file as"),
        ({"filename": "k.csv", "data": "", "type": 3}, "Send the file as"),
    ]:
        with pytest.raises(PackError, match=says):
            parse_upload(body, TYPES)


# -- sample packs ------------------------------------------------------------------------------------


def test_every_sample_pack_reads_as_its_types_prompts_and_lists_by_type():
    listed = sample_packs(TYPES)
    assert {p["name"] for p in listed} == {p.stem for p in PACKS_DIR.iterdir()}  # none silently left out
    for kind in ("answer-vote", "quiz", "poll"):
        mine = sample_packs(TYPES, kind)
        assert mine and all(kind in p["types"] for p in mine) and any(p["type"] == kind for p in mine)
        assert len({p["name"] for p in mine}) == len(mine)
    assert {p["name"] for p in sample_packs(TYPES, "quiz")} >= {"quiz-general-knowledge", "quiz-science"}
    mixed = [p for p in listed if len(p["types"]) > 1]  # a mixed pack is offered under each of its kinds
    assert mixed and all(p["name"] in {q["name"] for q in sample_packs(TYPES, "poll")} for p in mixed)


# -- a game's questions, exported and imported again ------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "prompts", "settings"),
    [
        ("answer-vote", ["A bad name for a cat", "The worst pizza topping"], {"vote_seconds": 30}),
        (
            "quiz",
            [
                "Capital of France? | Lyon | *Paris | Nice",
                "The sun is a star | false",
                {"question": "Two plus two?", "options": ["3", "4", "5", "6", "7", "8"], "answer": 1},
            ],
            {"quiz_seconds": 45, "max_players": 20},
        ),
        ("poll", ["Best snack? | Crisps | Nuts", "Multiple: Which days? | Mon | Tue | Wed"], {}),
        ("quiz", MIXED_PACK["prompts"], MIXED_PACK["settings"]),
    ],
    ids=["answer-vote", "quiz", "poll", "mixed"],
)
def test_an_exported_game_imports_to_the_same_prompts_and_timers(slug, prompts, settings):
    game = new_game(TYPES, "Round trip", prompts, slug, settings, now=0).game
    exported = export_pack(game, TYPES)
    pack = parse_pack(json.dumps(exported).encode(), "questions.json", TYPES)
    again = new_game(TYPES, pack["title"], pack["prompts"], pack["type"], pack["settings"], now=0).game
    assert (again.type, again.title, again.prompts) == (slug, "Round trip", game.prompts)
    own = {
        s.name
        for slug in dict.fromkeys(map(again.round_type, range(len(prompts))))
        for s in TYPES[slug].settings
    }
    assert {k: v for k, v in again.settings.items() if k in own} == pack["settings"] == exported["settings"]
    assert "max_players" not in exported["settings"]  # the room's rules stay with the room


# -- the routes, on the appliance and on the cloud stack ---------------------------------------------


async def test_the_pack_routes_answer_alike_on_both_runtimes(any_table_factory):
    prompts = ["Capital of France? | Lyon | *Paris", "The sun is a star | true"]
    table = await any_table_factory(prompts=prompts, type="quiz", quiz_seconds=40)
    http, path = table.http, f"/api/games/{table.game_id}/pack.json"
    async with http.get(path) as r:
        assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    async with http.get(path, headers={"Authorization": f"Bearer {table.created['host_token']}"}) as r:
        assert r.status == 200, await r.text()
        assert (
            r.headers["Content-Disposition"]
            == f'attachment; filename="questions-{table.created["code"]}.json"'
        )
        exported = json.loads(await r.read())
    assert exported["type"] == "quiz" and exported["settings"] == {"quiz_seconds": 40}
    async with http.post(
        "/api/packs/parse", json=pack_upload(json.dumps(exported), "q.json"), headers=ADMIN
    ) as r:
        pack = await r.json()
    assert (pack["prompts"], pack["settings"]) == (prompts, {"quiz_seconds": 40})
    upload = pack_upload(kahoot(KAHOOT_ROWS), "kahoot.xlsx", type="quiz")
    async with http.post("/api/packs/parse", json=upload, headers=ADMIN) as r:
        assert r.status == 200 and len((await r.json())["prompts"]) == 3
    bad = pack_upload("question,a,b,answer\nQ?,x,y,z\n", "bad.csv", type="quiz")
    async with http.post("/api/packs/parse", json=bad, headers=ADMIN) as r:
        assert r.status == 400 and (await r.json())["error"]["message"].startswith("Row 2: ")
    raw = {**ADMIN, "Content-Type": "text/csv"}
    async with http.post("/api/packs/parse", data=b"prompt\nA\n", headers=raw) as r:
        assert r.status == 415 and (await r.json())["error"]["code"] == "not_json"
    async with http.get("/api/packs?type=quiz") as r:
        assert {p["type"] for p in (await r.json())["packs"]} == {"quiz"}
    async with http.get("/api/packs/quiz-science") as r:
        assert (await r.json())["type"] == "quiz"


def test_the_readmes_pack_examples_read_as_it_says():
    readme = (PACKS_DIR.parents[1] / "README.md").read_text()
    section = readme.split("### Question packs", 1)[1].split("\n## ", 1)[0]
    examples = re.findall(r"```(json|csv)\n(.*?)```", section, re.S)
    assert [kind for kind, _ in examples] == ["json", "json", "csv", "csv"]
    packs = [parse_pack(body.encode(), f"example.{kind}", TYPES) for kind, body in examples]
    assert [p["type"] for p in packs] == ["answer-vote", "quiz", "quiz", "poll"]
    assert packs[1]["prompts"][0] == "Capital of France? | Lyon | *Paris | Nice"
    assert packs[2]["prompts"][1] == "Light travels faster than sound | true"
    assert packs[3]["prompts"][1] == "Multiple: Which fruit? | Apples | Pears | Plums"
