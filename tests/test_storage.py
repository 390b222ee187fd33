"""The SQLite file: pragmas, migrations, transactions and the stores."""

import sqlite3

import pytest

from bot.model import Kind, Phase, Role
from storage.db import Database, DatabaseUnusable, current_update_id
from storage.migrations import MIGRATIONS


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "swap.sqlite3")
    await database.open()
    yield database
    await database.close()


async def test_pragmas_and_schema_version(db, tmp_path):
    assert await db.schema_version() == len(MIGRATIONS)
    async with db.conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with db.conn.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1
    async with db.conn.execute("PRAGMA busy_timeout") as cur:
        assert (await cur.fetchone())[0] == 5000
    # The version lives in the file itself.
    plain = sqlite3.connect(tmp_path / "swap.sqlite3")
    assert plain.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    plain.close()


async def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "swap.sqlite3"
    first = Database(path)
    await first.open()
    async with first.transaction() as tx:
        await tx.swaps.create("Edinburgh and Fife", 1)
    await first.close()
    second = Database(path)
    await second.open()
    async with second.read() as tx:
        assert [s.title for s in await tx.swaps.created_by(1)] == ["Edinburgh and Fife"]
    await second.close()


async def test_a_file_open_elsewhere_is_refused_until_closed(tmp_path):
    """Two bots on one file would both deliver everything; a restart must still work."""
    path = tmp_path / "swap.sqlite3"
    first = Database(path)
    await first.open()
    second = Database(path)
    with pytest.raises(DatabaseUnusable, match="in use"):
        await second.open()
    async with first.read() as tx:  # the first is untouched
        assert await tx.swaps.created_by(1) == []
    await first.close()
    await second.open()
    await second.close()


async def test_a_file_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "swap.sqlite3"
    plain = sqlite3.connect(path)
    plain.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    plain.close()
    database = Database(path)
    with pytest.raises(DatabaseUnusable, match="newer"):
        await database.open()
    with pytest.raises(RuntimeError, match="not open"):
        database.conn


async def test_a_file_that_is_not_sqlite_is_refused_and_left_closed(tmp_path):
    """A connection left open keeps aiosqlite's thread, and the process, alive."""
    path = tmp_path / "notes.txt"
    path.write_text("Not a database.\n" * 20)
    database = Database(path)
    with pytest.raises(DatabaseUnusable, match="not an SQLite database"):
        await database.open()
    with pytest.raises(RuntimeError, match="not open"):
        database.conn


async def test_a_failing_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    import storage.db

    broken = [*MIGRATIONS, "CREATE TABLE extra (id INTEGER); THIS IS NOT SQL"]
    monkeypatch.setattr(storage.db, "MIGRATIONS", broken)
    database = Database(tmp_path / "swap.sqlite3")
    with pytest.raises(sqlite3.OperationalError):
        await database.open()
    with pytest.raises(RuntimeError, match="not open"):
        database.conn
    plain = sqlite3.connect(tmp_path / "swap.sqlite3")
    assert plain.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert plain.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchone() is None
    plain.close()


async def test_transaction_rolls_back_on_error(db):
    with pytest.raises(ValueError):
        async with db.transaction() as tx:
            await tx.swaps.create("Never kept", 1)
            raise ValueError("boom")
    async with db.read() as tx:
        assert await tx.swaps.created_by(1) == []


async def test_foreign_keys_cascade_from_people(db):
    async with db.transaction() as tx:
        swap = await tx.swaps.create("S", 1)
        team = await tx.teams.create(swap.id, "North")
        invite = await tx.invites.create(team.id, Role.MEMBER)
        person = await tx.people.ensure(42, "Ann")
        await tx.memberships.create(person.id, team.id, swap.id, Role.MEMBER, invite.id)
        await tx.contributions.add_draft(swap.id, team.id, person.id, Kind.PROPOSAL, "x")
    async with db.transaction() as tx:
        await tx.people.delete(person.id)
    async with db.read() as tx:
        assert await tx.memberships.of_team(team.id) == []
        assert await tx.contributions.of_person(person.id) == []


async def test_invite_tokens_are_unguessable_and_revocable(db):
    async with db.transaction() as tx:
        swap = await tx.swaps.create("S", 1)
        team = await tx.teams.create(swap.id, "North")
        tokens = [(await tx.invites.create(team.id, Role.MEMBER)).token for _ in range(50)]
    assert len(set(tokens)) == 50
    assert all(len(t) >= 22 for t in tokens)
    async with db.transaction() as tx:
        invite = await tx.invites.by_token(tokens[0])
        await tx.invites.revoke(invite.id)
    async with db.read() as tx:
        assert (await tx.invites.by_token(tokens[0])).revoked
        assert not (await tx.invites.by_token(tokens[1])).revoked


async def test_team_names_are_unique_per_swap_ignoring_case(db):
    async with db.transaction() as tx:
        swap = await tx.swaps.create("S", 1)
        await tx.teams.create(swap.id, "North")
        assert (await tx.teams.by_name(swap.id, "north")).name == "North"
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.teams.create(swap.id, "NORTH")


async def test_handled_updates_commit_with_the_change(db):
    token = current_update_id.set(777)
    try:
        async with db.transaction() as tx:
            await tx.swaps.create("S", 1)
    finally:
        current_update_id.reset(token)
    async with db.read() as tx:
        assert await tx.updates.was_handled(777)
        assert not await tx.updates.was_handled(778)


async def test_conversation_state_survives_reopening(tmp_path):
    path = tmp_path / "swap.sqlite3"
    first = Database(path)
    await first.open()
    async with first.transaction() as tx:
        await tx.conversations.set(5, "awaiting", kind="dilemma")
    await first.close()
    second = Database(path)
    await second.open()
    async with second.read() as tx:
        conversation = await tx.conversations.get(5)
    assert conversation.state == "awaiting" and conversation.data == {"kind": "dilemma"}
    await second.close()


async def test_phase_and_outbox_order(db):
    async with db.transaction() as tx:
        swap = await tx.swaps.create("S", 1)
        await tx.swaps.set_phase(swap.id, Phase.DILEMMA)
        await tx.outbox.add(300, "later", not_before=2e12)  # the oldest, but deferred
        for n in range(3):
            await tx.outbox.add(100, f"a{n}")
            await tx.outbox.add(200, f"b{n}")
    async with db.read() as tx:
        assert (await tx.swaps.get(swap.id)).phase is Phase.DILEMMA
        due, deferred = await tx.outbox.due(now=1e12, limit=10)
        # One row per chat at a time, each chat's oldest first; a deferred one waits.
        assert [(r["chat_id"], r["text"]) for r in due] == [(100, "a0"), (200, "b0")]
        assert deferred == 2e12
        due, deferred = await tx.outbox.due(now=1e12, limit=10, exclude_chats=[100])
        assert [(r["chat_id"], r["text"]) for r in due] == [(200, "b0")]
        # A deferred row never takes the place of one that may go now.
        due, deferred = await tx.outbox.due(now=1e12, limit=2)
        assert [r["chat_id"] for r in due] == [100, 200]
        assert [r["more"] for r in due] == [1, 1]  # each chat has more to come
        assert deferred == 2e12  # known all the same
        due, deferred = await tx.outbox.due(now=3e12, limit=10)
        assert [r["chat_id"] for r in due] == [300, 100, 200]
        assert deferred is None


async def test_the_outbox_gives_replies_first_and_a_deferred_chat_waits_whole(db):
    async with db.transaction() as tx:
        await tx.outbox.add(100, "bulk", bulk=True)
        await tx.outbox.add(200, "paste, first part", not_before=2e12)
        await tx.outbox.add(200, "paste, second part")
        await tx.outbox.add(100, "reply")
        await tx.outbox.add(300, "last reply")
    async with db.read() as tx:
        due, deferred = await tx.outbox.due(now=1e12, limit=10)
        # Replies before bulk, across chats and within one; chat 200 waits for
        # its first part, which is deferred, and sends nothing before it.
        assert [r["text"] for r in due] == ["reply", "last reply"]
        assert [r["more"] for r in due] == [1, 0]
        assert deferred == 2e12
        due, _ = await tx.outbox.due(now=3e12, limit=10)
        assert [r["text"] for r in due] == ["paste, first part", "reply", "last reply"]


async def test_an_outbox_id_is_never_given_twice(db):
    """A send in flight for a deleted row must not record a new row that took its id."""
    async with db.transaction() as tx:
        first = await tx.outbox.add(100, "first")
        last = await tx.outbox.add(200, "last, soon deleted")
        await tx.outbox.forget_chat(200)
        fresh = await tx.outbox.add(300, "new")
    assert fresh > last > first


async def test_the_outbox_rebuild_keeps_rows_and_quotes(tmp_path):
    """Migration 6 rebuilds the outbox: a file from before it keeps every row."""
    import sqlite3

    from storage.db import Database
    from storage.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for script in MIGRATIONS[:5]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 5")
        conn.execute(
            "INSERT INTO swaps (id, title, created_by, created_at) VALUES (1, 's', 1, 't')"
        )
        conn.execute(
            "INSERT INTO teams (id, swap_id, name, position, created_at) VALUES (1, 1, 'T', 1, 't')"
        )
        conn.execute(
            "INSERT INTO people (id, telegram_id, display_name, pseudonym, created_at)"
            " VALUES (1, 5, 'n', 'P-1', 't')"
        )
        conn.execute(
            "INSERT INTO contributions (id, swap_id, team_id, person_id, kind, text,"
            " status, created_at) VALUES (1, 1, 1, 1, 'answer', 'words', 'confirmed', 't')"
        )
        conn.execute("INSERT INTO outbox (id, chat_id, text, created_at) VALUES (7, 5, 'x', 't')")
        conn.execute("INSERT INTO outbox_quotes VALUES (7, 1)")
    conn.close()
    database = Database(path)
    await database.open()
    try:
        async with database.conn.execute("SELECT id, text FROM outbox") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(7, "x")]
        async with database.conn.execute("SELECT * FROM outbox_quotes") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [(7, 1)]
        async with database.transaction() as tx:
            await tx.contributions.delete(1)  # the trigger still finds the quoting row
        async with database.conn.execute("SELECT COUNT(*) FROM outbox") as cur:
            assert (await cur.fetchone())[0] == 0
    finally:
        await database.close()


async def test_a_withdrawal_rebuilds_a_message_of_blocks_without_its_words(db):
    """A folded message (a phase move's) is made of blocks, each quoting one
    contribution: deleting a contribution takes out its block only, and the
    message waits with the blocks left; one left with only headings is not
    sent; a message already sent keeps no blocks at all."""
    async with db.transaction() as tx:
        swap = await tx.swaps.create("S", 1)
        team = await tx.teams.create(swap.id, "North")
        person = await tx.people.ensure(42, "Ann")
        words = [
            await tx.contributions.add_draft(swap.id, team.id, person.id, Kind.ANSWER, t)
            for t in ("first answer", "second answer", "third answer")
        ]
        folded = await tx.outbox.add(
            5,
            "Opening\n\nfirst answer\n\nsecond answer",
            blocks=[
                ("Opening", None, True),
                ("\n\nfirst answer", words[0].id, True),
                ("\n\nsecond answer", words[1].id, True),
            ],
        )
        headed = await tx.outbox.add(
            6,
            "Heading\n\nthird answer",
            blocks=[("Heading", None, False), ("\n\nthird answer", words[2].id, True)],
        )
        sent = await tx.outbox.add(
            7, "Opening\n\nthird answer", blocks=[("Opening", None, True), ("x", words[2].id, True)]
        )
        await tx.outbox.mark_sent(sent, 99, forget=False)

    async def texts() -> dict[int, str]:
        async with db.conn.execute("SELECT id, text FROM outbox") as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def blocks_left() -> int:
        async with db.conn.execute("SELECT COUNT(*) FROM outbox_blocks") as cur:
            return (await cur.fetchone())[0]

    assert await blocks_left() == 5  # the sent message's went with its text
    async with db.transaction() as tx:
        await tx.contributions.delete(words[0].id)
    assert (await texts())[folded] == "Opening\n\nsecond answer"
    async with db.transaction() as tx:
        await tx.contributions.delete(words[2].id)
    assert headed not in await texts()  # a heading alone is not worth sending
    assert (await texts())[sent] == ""  # sent: nothing of its words is kept
    async with db.transaction() as tx:
        await tx.contributions.delete(words[1].id)
    assert (await texts())[folded] == "Opening"


async def test_ids_in_buttons_are_never_given_again_and_old_files_keep_their_rows(tmp_path):
    """Issue 19: a file from before the rebuild keeps its rows, references, indexes and
    the quotes trigger; afterwards a deleted membership's id is not given again."""
    from storage.migrations import BUTTON_ID_TABLES, Rebuild

    rebuild = next(i for i, m in enumerate(MIGRATIONS) if isinstance(m, Rebuild))
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for script in MIGRATIONS[:rebuild]:
            assert isinstance(script, str)
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {rebuild}")
        conn.executescript(
            "INSERT INTO swaps (id, title, created_by, created_at) VALUES (1, 's', 1, 't');"
            "INSERT INTO teams (id, swap_id, name, position, created_at) VALUES (1, 1, 'T', 1, 't');"
            "INSERT INTO people (id, telegram_id, display_name, pseudonym, created_at)"
            " VALUES (1, 5, 'n', 'P-1', 't'), (2, 6, 'm', 'P-2', 't');"
            "INSERT INTO memberships (id, person_id, swap_id, team_id, role, joined_at)"
            " VALUES (1, 1, 1, 1, 'lead', 't'), (2, 2, 1, 1, 'member', 't');"
            "INSERT INTO contributions (id, swap_id, team_id, person_id, kind, text,"
            " status, created_at) VALUES (1, 1, 1, 1, 'answer', 'words', 'confirmed', 't');"
            "INSERT INTO outbox (id, chat_id, text, created_at) VALUES (7, 5, 'x', 't');"
            "INSERT INTO outbox_quotes VALUES (7, 1);"
        )
    conn.close()
    database = Database(path)
    await database.open()
    try:

        async def one(sql: str, *params) -> list[tuple]:
            async with database.conn.execute(sql, params) as cur:
                return [tuple(r) for r in await cur.fetchall()]

        for table in BUTTON_ID_TABLES:
            (definition,) = (await one("SELECT sql FROM sqlite_master WHERE name = ?", table))[0]
            assert "AUTOINCREMENT" in definition, table
        assert await one("SELECT id, person_id FROM memberships ORDER BY id") == [(1, 1), (2, 2)]
        assert await one("PRAGMA foreign_keys") == [(1,)]
        assert await one("PRAGMA foreign_key_check") == []
        names = {n for (n,) in await one("SELECT name FROM sqlite_master")}
        assert {"memberships_team", "contributions_team", "teams_group"} <= names
        assert "contributions_take_unsent_quotes" in names
        async with database.transaction() as tx:
            await tx.contributions.delete(1)  # the trigger still stops the quoting row
            await tx.memberships.delete(2)
            await tx.people.conn.execute(
                "INSERT INTO memberships (person_id, swap_id, team_id, role, joined_at)"
                " VALUES (2, 1, 1, 'member', 't')"
            )
        assert await one("SELECT COUNT(*) FROM outbox") == [(0,)]
        assert await one("SELECT id FROM memberships ORDER BY id") == [(1,), (3,)]
        async with database.transaction() as tx:  # cascades still hold
            await tx.people.conn.execute("DELETE FROM teams WHERE id = 1")
        assert await one("SELECT COUNT(*) FROM memberships") == [(0,)]
    finally:
        await database.close()
