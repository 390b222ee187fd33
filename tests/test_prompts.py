"""Every prompt the code asks for exists, renders, and fits Telegram.

The keys are found by reading the code (``ast``), not by listing them here:
string constants shaped like ``folder/name``, keys built with f-strings
(expanded with the values each can take), and ``label(...)`` keys. When a new
f-string key shape appears in the code, ``test_every_fstring_key_shape_is_known``
fails and asks for its values to be added below.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.commands import COMMANDS
from bot.identifying import Detail
from bot.model import Kind, Phase, Role, Swap
from bot.procedure import REFLECTION_ROUNDS
from bot.services.sheets import builtin_version
from bot.text import (
    LANGUAGES,
    MESSAGE_LIMIT,
    Prompts,
    markdown_to_telegram,
    prompt_source,
    read_table,
)

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"
CODE_FILES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").glob("*.py")])
FOLDERS = (
    "errors",
    "join",
    "organiser",
    "workshop",
    "phase",
    "reflection",
    "help",
    "status",
    "missing",
    "export",
    "privacy",
    "schedule",
    "reminder",
    "announce",
    "group",
    "sheet",
    "retention",
    "trail",
    "language",
)
KEY_SHAPE = re.compile(rf"^(?:{'|'.join(FOLDERS)})/[a-z0-9_]+$")

# -- the values each f-string key can take ----------------------------------

KINDS = [k.value for k in Kind]
PHASES = [p.value for p in Phase]
ROLES = [r.value for r in Role]
REASONS = ["wrong_role", "wrong_phase"]  # bot.procedure.check_may_contribute
MISSING = [
    "two_teams",
    "lead",
    "dilemma",
    "team_response",
    "reflection",
    "pairs_need_even",
    "too_few_teams",
]
ROUNDS = [str(n) for n in range(1, REFLECTION_ROUNDS + 1)]
ALLOCATIONS = ["auto", "pairs", "ring"]
RELEASES = ["one_at_a_time", "all_at_once"]

# Keyed by the f-string with every placeholder replaced by "{}".
PROMPT_FSTRINGS: dict[str, list[str]] = {
    "errors/{}_{}": [f"errors/{r}_{k}" for r in REASONS for k in KINDS],
    "workshop/ask_{}": [f"workshop/ask_{k}" for k in ("proposal", "dilemma", "team_response")],
    "workshop/preview_{}": [f"workshop/preview_{k}" for k in KINDS],
    "workshop/{}": ["workshop/names_shared_note", "workshop/names_hidden_note"],
    "workshop/{}_confirmed": [f"workshop/{k}_confirmed" for k in KINDS],
    "workshop/team_{}_confirmed": [
        f"workshop/team_{k}_confirmed" for k in ("dilemma", "team_response")
    ],
    "missing/{}": [f"missing/{m}" for m in MISSING],
    "phase/{}_{}": [
        f"phase/{p}_{r}" for p in ("dilemma", "response", "reflection", "closed") for r in ROLES
    ],
    "phase/reopened_{}": [f"phase/reopened_{p}" for p in ("dilemma", "response", "reflection")],
    "reflection/round_{}": [f"reflection/round_{n}" for n in ROUNDS],
    "help/{}_{}": [f"help/{r}_{p}" for r in ROLES for p in PHASES],
    "status/contributed_{}": [
        f"status/contributed_{k}" for k in ("proposal", "answer", "reflection")
    ],
    "status/team_{}_{}": [
        f"status/team_{k}_{s}" for k in ("dilemma", "team_response") for s in ("done", "missing")
    ],
    "organiser/what_{}": ["organiser/what_dilemma", "organiser/what_closed"],
    "organiser/name_{}": ["organiser/name_empty", "organiser/name_mixed_scripts"],
    "workshop/team_{}_replaced": [
        f"workshop/team_{k}_replaced" for k in ("dilemma", "team_response")
    ],
    "schedule/time_{}": [
        f"schedule/time_{r}" for r in ("malformed", "impossible", "skipped", "past")
    ],
    "schedule/bad_{}": ["schedule/bad_offsets", "schedule/bad_quiet"],
    "group/phase_{}": [f"group/phase_{p}" for p in ("dilemma", "response", "reflection", "closed")],
    "group/lost_{}": ["group/lost_removed", "group/lost_no_rights"],
    "export/caption_{}": [f"export/caption_{x}" for x in ("md", "html", "csv", "json", "qdpx")],
    "reminder/lead_{}": ["reminder/lead_dilemma", "reminder/lead_team_response"],
    "reminder/{}": ["reminder/response", "reminder/reflection"],
    "organiser/bad_{}": [
        f"organiser/bad_{r}" for r in ("retention", "withdrawal", "withdrawal_past")
    ],
    "privacy/delivered_{}": [
        f"privacy/delivered_{k}" for k in ("dilemma", "answer", "team_response")
    ],
    "status/headline_{}": [f"status/headline_{k}" for k in ("proposal", "answer", "reflection")],
    "workshop/{}_shared": ["workshop/proposal_shared", "workshop/answer_shared"],
    "workshop/{}_shared_{}": [
        f"workshop/{k}_shared_{r}" for k in ("proposal", "answer") for r in ROLES
    ],
}

LABEL_FSTRINGS: dict[str, list[str]] = {
    "phase_{}": [f"phase_{p}" for p in PHASES],
    "role_{}": [f"role_{r}" for r in ROLES],
    "kind_{}": [f"kind_{k}" for k in ("proposal", "answer", "reflection")],
    "detail_{}": [f"detail_{d.value}" for d in Detail],
    "revoke_{}": [f"revoke_{r}" for r in ROLES],
    "allocation_{}": [f"allocation_{a}" for a in ALLOCATIONS],
    "set_allocation_{}": [f"set_allocation_{a}" for a in ALLOCATIONS],
    "release_{}": [f"release_{r}" for r in RELEASES],
    "set_release_{}": [f"set_release_{r}" for r in RELEASES],
    "round_{}": [f"round_{n}" for n in ROUNDS],
    "when_{}": [
        f"when_{w}"
        for w in ("dilemma", "response", "reflection", "workshop1", "workshop2", "workshop3")
    ],
    "job_{}": [f"job_{j}" for j in ("reminder", "workshop_note", "auto_advance")],
    "prompt_{}": [f"prompt_{k}" for k in ("proposal", "dilemma", "answer", "team_response")],
    "question_{}": [f"question_{k}" for k in KINDS],
}

# Where the key is among the positional arguments of each call that takes one.
KEY_ARGUMENT = {
    "send": 1,
    "html": 0,
    "raw": 0,
    "messages": 0,
    "Refusal": 0,
    "tell_team": 3,
    "document": 3,
    "tell": 1,
}

# Keys passed through a variable, with the parameters their one call site gives.
INDIRECT_PARAMS = {
    "phase/returned_team_response": {"team", "text", "author", "contribution_id"},
    "phase/returned_answer": {"team", "text", "author", "contribution_id", "number"},
    "join/please_decide": set(),
    "help/stranger": set(),
}

# Files rendered into one line of a list or sentence: one line of Markdown.
ONE_LINE = re.compile(
    r"^(missing/.*|organiser/what_.*|organiser/swap_line|organiser/advanced_forced"
    r"|status/(person|nobody_yet|declined|group|not_yet|contributed_.*|team_.*_(done|missing))"
    r"|help/organiser_(current|no_swap|also_member)|phase/author"
    r"|workshop/names_(shared|hidden)_note|workshop/will_replace|workshop/replaced_draft"
    r"|organiser/(person|team)_line|privacy/swap_line|privacy/delivered_.*"
    r"|privacy/adopted_was_delivered|help/command|schedule/(date_)?line|reminder/by)$"
)

TELEGRAM_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "blockquote"}
TABLES = {"buttons", "commands"}


# -- reading the code ----------------------------------------------------------


def _skeleton(node: ast.JoinedStr) -> str:
    """An f-string with every placeholder replaced by ``{}``."""
    out = []
    for part in node.values:
        out.append(part.value if isinstance(part, ast.Constant) else "{}")
    return "".join(out)


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _trees() -> list[tuple[Path, ast.AST]]:
    trees = []
    for path in CODE_FILES:
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                child.parent = parent  # type: ignore[attr-defined]
        trees.append((path, tree))
    return trees


def _kinds_named(node: ast.AST, module: ast.AST) -> set[str] | None:
    """The kinds ``Kind.X`` or a module-level tuple of them names, else None."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Kind"
    ):
        return {Kind[node.attr].value}
    if isinstance(node, ast.Name):
        for statement in module.body:
            if (
                isinstance(statement, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == node.id for t in statement.targets)
                and isinstance(statement.value, ast.Tuple)
            ):
                kinds = [_kinds_named(e, module) for e in statement.value.elts]
                if all(k is not None for k in kinds):
                    return set().union(*kinds)
    return None


def _narrowed(node: ast.AST, keys: list[str], module: ast.AST) -> list[str]:
    """Keys a call can really reach, inside ``if x.kind in (...)`` / ``is Kind.X``."""
    child, parent = node, getattr(node, "parent", None)
    while parent is not None:
        if (
            isinstance(parent, ast.If)
            and child in parent.body
            and isinstance(parent.test, ast.Compare)
            and len(parent.test.ops) == 1
            and isinstance(parent.test.ops[0], (ast.In, ast.Is, ast.Eq))
        ):
            kinds = _kinds_named(parent.test.comparators[0], module)
            if kinds is not None:
                keys = [k for k in keys if any(re.search(rf"[/_]{kind}(_|$)", k) for kind in kinds)]
        child, parent = parent, getattr(parent, "parent", None)
    return keys


def _string_options(node: ast.AST) -> list[str] | None:
    """The strings an argument can be: a constant, or either side of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _string_options(node.body), _string_options(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _prompt_keys_of(node: ast.AST) -> list[str] | None:
    """The prompt keys an expression names, or None if it names none we can see."""
    options = _string_options(node)
    if options is not None:
        keys = [o for o in options if KEY_SHAPE.match(o)]
        return keys or None
    if isinstance(node, ast.JoinedStr):
        skeleton = _skeleton(node)
        if skeleton.split("/", 1)[0] in FOLDERS and "/" in skeleton:
            return PROMPT_FSTRINGS.get(skeleton, [])
    return None


def prompt_fstring_skeletons() -> set[str]:
    found = set()
    for _, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                skeleton = _skeleton(node)
                if "/" in skeleton and skeleton.split("/", 1)[0] in FOLDERS:
                    found.add(skeleton)
    return found


def prompt_keys_in_code() -> set[str]:
    """Every prompt key the code can ask for."""
    keys: set[str] = set()
    for _, tree in _trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and KEY_SHAPE.match(node.value)
                and not isinstance(getattr(node, "parent", None), ast.JoinedStr)
            ):
                keys.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                keys.update(_prompt_keys_of(node) or [])
    return keys


def prompt_calls() -> list[tuple[str, str, set[str] | None]]:
    """(where, key, keyword parameters) for every call that names its key.

    The parameters are None when the call also passes ``**something``.
    """
    calls = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _callee(node)
            if name not in KEY_ARGUMENT or len(node.args) <= KEY_ARGUMENT[name]:
                continue
            keys = _prompt_keys_of(node.args[KEY_ARGUMENT[name]])
            if not keys:
                continue
            keys = _narrowed(node, keys, tree)
            params: set[str] | None = {k.arg for k in node.keywords if k.arg is not None}
            if any(k.arg is None for k in node.keywords):
                params = None
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            calls.extend((where, key, params) for key in keys)
    return calls


def label_calls() -> list[tuple[str, str, set[str]]]:
    """(where, label key, keyword parameters) for every ``label(...)`` call."""
    calls = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _callee(node) == "label" and node.args):
                continue
            first = node.args[0]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(first, ast.JoinedStr):
                skeleton = _skeleton(first)
                assert skeleton in LABEL_FSTRINGS, (
                    f"{where}: label key {skeleton!r} built with an f-string: add its values"
                )
                keys = LABEL_FSTRINGS[skeleton]
            else:
                keys = _string_options(first)
                if keys is None:  # e.g. Core.label passing its own argument on
                    continue
            params = {k.arg for k in node.keywords if k.arg is not None}
            calls.extend((where, key, params) for key in keys)
        # A plural label: English has its "one" and "other" forms, given the count.
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _callee(node) == "plural" and node.args:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                params = {k.arg for k in node.keywords if k.arg is not None} | {"count"}
                for key in _string_options(node.args[0]) or []:
                    calls.extend((where, f"{key}_{form}", params) for form in ("one", "other"))
    return calls


def placeholders(source: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(source) if field is not None}


def prompt_files() -> list[str]:
    """The English prompts (translations are held against them in test_languages)."""
    return sorted(
        str(p.relative_to(PROMPTS).with_suffix(""))
        for p in PROMPTS.rglob("*.md")
        if p.relative_to(PROMPTS).parts[0] not in LANGUAGES
    )


def message_files() -> list[str]:
    return [k for k in prompt_files() if k not in TABLES and not k.startswith("export/")]


def read(key: str) -> str:
    return prompt_source(PROMPTS / f"{key}.md")


def sample(field: str) -> str:
    return f"Sample {field.replace('_', ' ')}"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# -- (1) every key the code uses has its file ---------------------------------


def test_every_fstring_key_shape_is_known():
    unknown = prompt_fstring_skeletons() - set(PROMPT_FSTRINGS)
    assert not unknown, f"prompt keys built with f-strings; add their values: {unknown}"


def test_enumerated_values_match_the_procedure():
    source = (ROOT / "bot" / "procedure.py").read_text("utf-8")
    assert set(re.findall(r'Missing\("(\w+)"', source)) <= set(MISSING)
    tree = ast.parse(source)
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        raised = {
            node.args[0].value
            for node in ast.walk(function)
            if isinstance(node, ast.Call)
            and _callee(node) == "NotAllowed"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        }
        if function.name == "check_may_contribute":
            assert raised <= set(REASONS)
        if function.name in ("allocate", "allocation_mode"):
            assert raised <= set(MISSING)


def test_every_prompt_key_used_in_code_has_a_file():
    keys = prompt_keys_in_code()
    assert len(keys) > 100  # the search itself works
    missing = sorted(k for k in keys if not (PROMPTS / f"{k}.md").is_file())
    assert not missing, f"prompt files missing: {missing}"


def test_every_placeholder_is_given_at_every_call_site():
    problems = []
    checked = set()
    for where, key, params in prompt_calls():
        path = PROMPTS / f"{key}.md"
        if params is None or not path.is_file():
            continue
        checked.add(key)
        lacking = placeholders(read(key)) - params
        if lacking:
            problems.append(f"{where}: {key} needs {sorted(lacking)}, given {sorted(params)}")
    for key, params in INDIRECT_PARAMS.items():
        lacking = placeholders(read(key)) - params
        if lacking:
            problems.append(f"{key} needs {sorted(lacking)}")
    assert not problems, "\n".join(problems)
    assert len(checked) > 100


# -- (2) every message renders and fits Telegram --------------------------------


@pytest.fixture(scope="module")
def prompts() -> Prompts:
    return Prompts()


@pytest.mark.parametrize("key", message_files())
def test_message_renders_within_telegram_limits(prompts: Prompts, key: str):
    source = read(key)
    fields = placeholders(source)
    # Markdown must leave every placeholder intact for str.format.
    assert placeholders(markdown_to_telegram(source)) == fields, key
    params = {field: sample(field) for field in fields}
    rendered = prompts.html(key, **params)
    assert rendered.strip(), f"{key} renders empty"
    assert "{" not in rendered and "}" not in rendered, f"{key}: stray brace"
    parts = prompts.messages(key, **params)
    assert parts
    for part in parts:
        assert 0 < utf16(part) <= MESSAGE_LIMIT, f"{key}: a message of {utf16(part)} units"
        tags = {t.lower() for t in re.findall(r"</?\s*([A-Za-z][\w-]*)", part)}
        assert tags <= TELEGRAM_TAGS, f"{key}: tags Telegram refuses: {tags - TELEGRAM_TAGS}"
    if ONE_LINE.match(key):
        assert "\n" not in source.strip(), f"{key} must be one line of Markdown"
        assert "\n" not in rendered, f"{key} must render to one line"


@pytest.mark.parametrize("key", message_files())
def test_emoji_sparingly(key: str):
    emoji = re.findall(r"[\U0001F000-\U0001FAFF\u2600-\u27BF]", read(key))
    assert len(emoji) <= (0 if key.startswith("errors/") else 1), key


@pytest.mark.parametrize("key", [k for k in prompt_files() if k.startswith("export/")])
def test_export_parts_fill_in(prompts: Prompts, key: str):
    source = read(key)
    params = {field: sample(field) for field in placeholders(source)}
    assert prompts.raw(key, **params).strip()
    if "{text}" in source:
        assert re.search(r"(^|\n\n)\{text\}\s*$", source.strip()) or re.search(
            r"\n\n\{text\}\n\n", source
        ), f"{key}: {{text}} on its own paragraph"


def test_the_messages_the_product_specifies():
    sheet = read("join/information_sheet")
    for word in ("/withdraw", "/mydata", "voluntary"):
        assert word in sheet
    # The question under the sheet gives way to the answer once pressed.
    question = read("join/agree_or_decline")
    assert "I agree" in question and "Decline" in question
    added = read("organiser/team_added").splitlines()
    assert any("lead" in line.lower() and "{lead_link}" in line for line in added)
    assert any("member" in line.lower() and "{member_link}" in line for line in added)
    assert not any("{lead_link}" in line and "`" in line for line in added)
    preview = read("organiser/advance_preview")
    assert "{messages} messages to {people} people" in preview and "Confirm" in preview
    assert "/advance force" in read("organiser/advance_blocked")
    assert "Team {team} asks you to work on this dilemma" in read("phase/dilemma_for_you")
    assert "What we said about {their_team}'s dilemma" in read("reflection/side_by_side_ours")
    assert "What {partner} said about ours" in read("reflection/side_by_side_theirs")
    for n in ROUNDS:
        assert "reply to this message" in read(f"reflection/round_{n}").lower()
    assert "That button is no longer active" in read("errors/stale_button")


# -- (3) button labels -----------------------------------------------------------


@pytest.fixture(scope="module")
def labels() -> dict[str, str]:
    return dict(read_table(read("buttons")))


def test_every_label_used_in_code_exists(labels: dict[str, str]):
    calls = label_calls()
    assert len(calls) > 20  # the search itself works
    missing = sorted({key for _, key, _ in calls if key not in labels})
    assert not missing, f"labels missing from prompts/buttons.md: {missing}"
    for where, key, params in calls:
        lacking = placeholders(labels[key]) - params
        assert not lacking, f"{where}: label {key} needs {sorted(lacking)}"


def test_labels_are_short_plain_text(labels: dict[str, str]):
    for key, text in labels.items():
        assert 0 < len(text) <= 40, f"label {key} is {len(text)} characters"
        assert not re.search(r"[*_`<>\[\]]", text), f"label {key} is not plain text"
        text.format(**{field: sample(field) for field in placeholders(text)})


def test_labels_the_contract_names(labels: dict[str, str]):
    assert "I agree" in labels["agree"]
    assert "Confirm" in labels["confirm"]
    assert "Confirm" in labels["confirm_advance"]


# -- (4) command descriptions ------------------------------------------------------


def test_command_descriptions():
    table = read_table(read("commands"))
    wanted = {c.name for c in COMMANDS if c.audience}
    assert wanted <= set(table), f"descriptions missing: {sorted(wanted - set(table))}"
    for command, description in table.items():
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command), command
        assert 3 <= len(description) <= 256, f"/{command}: {len(description)} characters"


def test_the_sheet_keeps_the_fingerprint_people_agreed_to(prompts: Prompts):
    """Consents carry the sheet's fingerprint; one that no longer matches asks
    that person to agree again. Change this value only with the sheet's words:
    it changed when the sheet came to say that responses are shared with one's
    own team, that reflections go to no one in either team, what each member
    receives at the close, and to ask that no child, family, colleague or place
    be named; then when it gained the study's fields (marked unfilled until the
    swap's settings fill them) and a paragraph on Telegram itself; then when it
    named every kind of detail a preview points out. Everyone who agreed before
    is asked again."""
    swap = Swap(1, "", Phase.SETUP, "auto", "one_at_a_time", 0, False, 0, "")  # type: ignore[arg-type]
    assert builtin_version(prompts, ZoneInfo("Europe/London"), swap) == "489dfc1469c2"


def test_every_audit_event_has_its_words(prompts: Prompts):
    """Each key the code records in the audit is in prompts/trail/events.md,
    and its words take only the details recorded with it."""
    events = prompts.table("trail/events")
    recorded: dict[str, set[str]] = {}
    for path in Path("bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "stop_group"
            ):
                # A group's link ends through stop_group, which records its key.
                given, key = {"team"}, node.args[2]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "audit"
            ):
                given, key = {k.arg for k in node.keywords if k.arg}, node.args[2]
                if isinstance(key, ast.Name):  # stop_group's own: its callers' keys
                    continue
            else:
                continue
            if isinstance(key, ast.Constant):
                keys = [key.value]
            elif isinstance(key, ast.IfExp):  # "schedule_set_auto" if auto else ...
                keys = [key.body.value, key.orelse.value]  # type: ignore[attr-defined]
            elif isinstance(key, ast.JoinedStr):  # f"group_lost_{reason}"
                keys = [f"group_lost_{reason}" for reason in ("removed", "no_rights")]
            else:  # "transition" + "_forced" + "_automatic", as they apply
                assert isinstance(key, ast.BinOp), ast.dump(key)
                keys = [
                    f"transition{forced}{automatic}"
                    for forced in ("", "_forced")
                    for automatic in ("", "_automatic")
                ]
            for name in keys:
                recorded[name] = given
    assert len(recorded) >= 20, sorted(recorded)
    for key, given in recorded.items():
        assert key in events, key
        named = {name for _, name, _, _ in string.Formatter().parse(events[key]) if name}
        assert named <= given, (key, named - given)
