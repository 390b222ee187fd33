"""The services on their own: a real SQLite file, no Telegram, no HTTP.

Each test calls the services the handlers call, as a person (``Who``), and
asserts on what is stored and on what the outbox owes whom.
"""

from __future__ import annotations

import shutil
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from bot.model import Kind, Phase, Role, Status
from bot.services import Services
from bot.services.core import Who
from bot.text import Prompts
from storage.db import Database

ORGANISER = Who(1001, "Olivia")
OTHER_ORGANISER = Who(1002, "Omar")


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "services.sqlite3")
    await database.open()
    yield database
    await database.close()


@pytest.fixture
def services(db):
    return Services.build(
        db,
        Prompts(),
        frozenset({ORGANISER.telegram_id, OTHER_ORGANISER.telegram_id}),
        "swap_bot",
        ZoneInfo("Europe/London"),
    )


async def owed(db: Database, chat_id: int) -> list[str]:
    """The texts the outbox owes a chat, oldest first."""
    return [text for text, _ in await outbox_rows(db, chat_id)]


async def outbox_rows(db: Database, chat_id: int) -> list[tuple[str, int | None]]:
    """(text, message edited or None) the outbox owes a chat, oldest first."""
    async with db.conn.execute(
        "SELECT text, edit_message_id FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
    ) as cur:
        return [(r[0], r[1]) for r in await cur.fetchall()]


async def count(db: Database, table: str) -> int:
    async with db.conn.execute(f"SELECT COUNT(*) FROM {table}") as cur:
        row = await cur.fetchone()
    return row[0]


async def swap_with_teams(services: Services, db: Database) -> dict[tuple[str, Role], int]:
    """A swap with North and South, a lead and a member in each; their invite ids."""
    await services.organising.new_swap(ORGANISER, "Two councils")
    await services.organising.add_team(ORGANISER, "North")
    await services.organising.add_team(ORGANISER, "South")
    async with db.read() as tx:
        invites = {}
        for team in await tx.swaps.created_by(ORGANISER.telegram_id):
            for t in await tx.teams.of_swap(team.id):
                for invite in await tx.invites.active_of_team(t.id):
                    invites[t.name, invite.role] = invite.id
    return invites


async def join(services: Services, who: Who, invite_id: int, token_of: dict) -> None:
    await services.joining.start(who, token_of[invite_id])
    assert await services.joining.decide(who, invite_id, agree=True)


async def tokens(db: Database) -> dict[int, str]:
    async with db.conn.execute("SELECT id, token FROM invites") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def test_a_swap_and_teams_owe_the_organiser_their_links(services, db):
    await swap_with_teams(services, db)
    texts = await owed(db, ORGANISER.telegram_id)
    assert len(texts) == 3
    assert texts[1].count("https://t.me/swap_bot?start=") == 2
    assert await count(db, "teams") == 2


async def test_a_refused_action_changes_nothing_and_owes_one_answer(services, db):
    stranger = Who(5, "Stan")
    done = await services.organising.new_swap(stranger, "Mine")
    assert done is False
    assert await count(db, "swaps") == 0
    assert len(await owed(db, stranger.telegram_id)) == 1


async def test_the_advance_preview_changes_nothing(services, db):
    invites = await swap_with_teams(services, db)
    token_of = await tokens(db)
    for n, key in enumerate(invites):
        await join(services, Who(100 + n, f"P{n}"), invites[key], token_of)
    before = await count(db, "outbox")
    await services.phases.advance(ORGANISER, force=False)
    async with db.read() as tx:
        [swap] = await tx.swaps.created_by(ORGANISER.telegram_id)
    assert swap.phase is Phase.SETUP
    assert await count(db, "outbox") == before + 1  # the preview, and nothing else
    assert "4 people" in (await owed(db, ORGANISER.telegram_id))[-1]
    # Another organiser's forged confirmation is refused; the owner's goes through.
    assert not await services.phases.confirm_advance(
        OTHER_ORGANISER, swap.id, "set", 0, force=False
    )
    assert await services.phases.confirm_advance(ORGANISER, swap.id, "set", 0, force=False)
    async with db.read() as tx:
        assert (await tx.swaps.get(swap.id)).phase is Phase.DILEMMA


async def test_withdrawal_deletes_words_and_unsent_messages_quoting_them(services, db):
    invites = await swap_with_teams(services, db)
    token_of = await tokens(db)
    lead, member = Who(201, "Lena"), Who(202, "Milo")
    await join(services, lead, invites["North", Role.LEAD], token_of)
    await join(services, member, invites["North", Role.MEMBER], token_of)
    await join(services, Who(203, "Sol"), invites["South", Role.LEAD], token_of)
    async with db.read() as tx:
        [swap] = await tx.swaps.created_by(ORGANISER.telegram_id)
    await services.phases.confirm_advance(ORGANISER, swap.id, "set", 0, force=False)
    await services.workshop.text(member, "Quince-lantern proposal", None)
    async with db.read() as tx:
        [draft] = await tx.contributions.of_person(
            (await tx.people.by_telegram_id(member.telegram_id)).id
        )
    assert draft.kind is Kind.PROPOSAL and draft.status is Status.DRAFT
    assert await services.workshop.confirm(member, draft.id)
    # The lead is owed the proposal; it has not gone yet.
    assert any("Quince-lantern" in t for t in await owed(db, lead.telegram_id))
    async with db.read() as tx:
        person = await tx.people.by_telegram_id(member.telegram_id)
    assert await services.privacy.withdraw_confirmed(member, person.id, 0)
    async with db.conn.execute("SELECT COUNT(*) FROM outbox WHERE text LIKE '%Quince%'") as cur:
        assert (await cur.fetchone())[0] == 0
    assert await count(db, "contributions") == 0
    async with db.read() as tx:
        assert await tx.people.by_telegram_id(member.telegram_id) is None


async def agreeing(services: Services, db: Database, who: Who) -> list[tuple[str, int | None]]:
    """Open North's member link, press "I agree" on message 7; what that owes."""
    invites = await swap_with_teams(services, db)
    invite = invites["North", Role.MEMBER]
    await services.joining.start(who, (await tokens(db))[invite])
    before = len(await outbox_rows(db, who.telegram_id))
    assert await services.joining.decide(Who(who.telegram_id, who.name, 7), invite, agree=True)
    return (await outbox_rows(db, who.telegram_id))[before:]


async def test_agreeing_edits_the_sheet_into_the_receipt(services, db):
    nadia = Who(301, "Nadia")
    [(text, edited)] = await agreeing(services, db, nadia)
    assert edited == 7
    sheet, receipt = text.split("<b>Thank you: you have joined.</b>")
    # The sheet's words stay above the receipt; the question under them goes.
    assert "voluntary" in sheet and "North" in sheet and "I agree</b> to join" not in sheet
    async with db.read() as tx:
        swap = await tx.swaps.get(1)
        assert swap is not None
        assert await services.sheets.version(tx, swap) in receipt


async def test_a_receipt_too_long_to_join_the_sheet_follows_it(db, tmp_path):
    mine = tmp_path / "prompts"
    shutil.copytree(str(resources.files("prompts")), mine)
    consented = mine / "join" / "consented.md"
    consented.write_text(consented.read_text() + "\n\n" + "A long receipt. " * 150)
    services = Services.build(
        db, Prompts(mine), frozenset({ORGANISER.telegram_id}), "swap_bot", ZoneInfo("UTC")
    )
    nadia = Who(302, "Nadia")
    owed_now = await agreeing(services, db, nadia)
    # The receipt goes as a message of its own; the sheet only loses its buttons.
    assert [(bool(text), edited) for text, edited in owed_now] == [(True, None), (False, 7)]
    assert "you have joined" in owed_now[0][0] and "voluntary" not in owed_now[0][0]


async def test_declining_edits_the_sheet_into_the_answer_and_keeps_nothing(services, db):
    invites = await swap_with_teams(services, db)
    invite = invites["South", Role.MEMBER]
    dara = Who(303, "Dara")
    await services.joining.start(dara, (await tokens(db))[invite])
    assert await services.joining.decide(Who(303, "Dara", 9), invite, agree=False)
    [(text, edited)] = await outbox_rows(db, dara.telegram_id)
    assert edited == 9 and "voluntary" in text and "I agree</b> to join" not in text
    assert await count(db, "people") == 0


async def test_status_counts_each_persons_confirmed_contributions(services, db):
    invites = await swap_with_teams(services, db)
    token_of = await tokens(db)
    lead, member = Who(201, "Lena"), Who(202, "Milo")
    await join(services, lead, invites["North", Role.LEAD], token_of)
    await join(services, member, invites["North", Role.MEMBER], token_of)
    await join(services, Who(203, "Sol"), invites["South", Role.LEAD], token_of)
    async with db.read() as tx:
        [swap] = await tx.swaps.created_by(ORGANISER.telegram_id)
    await services.phases.confirm_advance(ORGANISER, swap.id, "set", 0, force=False)
    await services.workshop.text(member, "Quince-lantern proposal", None)
    async with db.read() as tx:
        person = await tx.people.by_telegram_id(member.telegram_id)
        [draft] = await tx.contributions.of_person(person.id)
    assert await services.workshop.confirm(member, draft.id)
    await services.workshop.text(lead, "A draft the lead never confirms", None)
    await services.organising.status(ORGANISER)
    status = (await owed(db, ORGANISER.telegram_id))[-1]
    milo = next(line for line in status.splitlines() if "Milo" in line)
    lena = next(line for line in status.splitlines() if "Lena" in line)
    assert "Proposals confirmed: 1." in milo
    assert "Nothing confirmed yet." in lena
