"""Numbered schema migrations.

Each entry is applied once, in its own transaction, and the file's
``PRAGMA user_version`` records how many have been applied. Never edit an
entry that has shipped: add a new one.

An entry is SQL, or a ``Rebuild``: tables rebuilt the way SQLite documents
for changes ``ALTER TABLE`` cannot make, with statements written from each
table's definition as the file holds it (so columns another migration added
are kept, whichever ran first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Tables whose ids travel in buttons (swaps, invites, memberships, contributions...):
# an id used again could make a stale button act on a newer row.
BUTTON_ID_TABLES = (
    "swaps",
    "teams",
    "invites",
    "people",
    "memberships",
    "contributions",
    "announcements",
    "comments",
    "group_links",
)

_KEY = re.compile(r"\bid INTEGER PRIMARY KEY\b(?! AUTOINCREMENT)")


def reusable(definition: str) -> bool:
    """Whether a table, by its ``CREATE TABLE``, may give a deleted row's id again."""
    return _KEY.search(definition) is not None


@dataclass(frozen=True)
class Rebuild:
    """Rebuild ``tables`` with ``AUTOINCREMENT``, so that their ids are never used
    twice. SQLite's twelve steps: a new table from the old one's definition, the
    rows copied, the old one dropped and the new one renamed in its place, its
    indexes and triggers made again. It runs with foreign keys off (dropping a
    table would otherwise delete, by cascade, every row that refers to it), and
    they are checked before it commits."""

    why: str
    tables: tuple[str, ...]

    def statements(self, schema: list[tuple[str, str, str, str | None]]) -> list[str]:
        """The statements for a file whose ``sqlite_master`` rows (type, name,
        table, sql) are ``schema``; tables already rebuilt are left alone."""
        out: list[str] = []
        for table in self.tables:
            definition = next(
                (sql for kind, name, _, sql in schema if kind == "table" and name == table), None
            )
            if definition is None or not reusable(definition):
                continue
            created = re.sub(
                rf'^CREATE TABLE\s+"?{table}"?', f'CREATE TABLE "{table}_rebuilt"', definition
            )
            out += [
                _KEY.sub("id INTEGER PRIMARY KEY AUTOINCREMENT", created, count=1),
                f'INSERT INTO "{table}_rebuilt" SELECT * FROM "{table}"',
                f'DROP TABLE "{table}"',
                f'ALTER TABLE "{table}_rebuilt" RENAME TO "{table}"',
            ]
            # Indexes SQLite makes itself (UNIQUE) come back with the table.
            out += [
                sql
                for kind, _, owner, sql in schema
                if owner == table and kind in ("index", "trigger") and sql
            ]
        return out


Migration = str | Rebuild

MIGRATIONS: list[Migration] = [
    # 1: swaps, teams, invites, people, memberships, consent, conversation
    # state, contributions, transitions, the outbox and handled updates.
    """
    CREATE TABLE swaps (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT 'setup'
            CHECK (phase IN ('setup', 'dilemma', 'response', 'reflection', 'closed')),
        allocation TEXT NOT NULL DEFAULT 'auto' CHECK (allocation IN ('auto', 'pairs', 'ring')),
        reflection_release TEXT NOT NULL DEFAULT 'one_at_a_time'
            CHECK (reflection_release IN ('one_at_a_time', 'all_at_once')),
        rounds_released INTEGER NOT NULL DEFAULT 0,
        share_names INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE organisers (
        telegram_id INTEGER PRIMARY KEY,
        current_swap_id INTEGER REFERENCES swaps(id) ON DELETE SET NULL
    );
    CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (swap_id, name COLLATE NOCASE)
    );
    CREATE TABLE invites (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('lead', 'member')),
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        telegram_id INTEGER NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        pseudonym TEXT NOT NULL UNIQUE,
        chat_status TEXT NOT NULL DEFAULT 'ok'
            CHECK (chat_status IN ('ok', 'blocked', 'not_started')),
        created_at TEXT NOT NULL
    );
    CREATE TABLE memberships (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('lead', 'member')),
        invite_id INTEGER REFERENCES invites(id) ON DELETE SET NULL,
        joined_at TEXT NOT NULL,
        UNIQUE (person_id, swap_id)
    );
    CREATE INDEX memberships_team ON memberships(team_id);
    CREATE TABLE consents (
        id INTEGER PRIMARY KEY,
        person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
        team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('agreed', 'declined')),
        sheet_version TEXT NOT NULL,
        decided_at TEXT NOT NULL
    );
    CREATE TABLE conversations (
        telegram_id INTEGER PRIMARY KEY,
        state TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL
    );
    CREATE TABLE contributions (
        id INTEGER PRIMARY KEY,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        kind TEXT NOT NULL
            CHECK (kind IN ('proposal', 'dilemma', 'answer', 'team_response', 'reflection')),
        about_team_id INTEGER REFERENCES teams(id) ON DELETE CASCADE,
        round INTEGER,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('draft', 'confirmed', 'superseded')),
        replaces_id INTEGER REFERENCES contributions(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        delivered_at TEXT,
        ever_delivered INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX contributions_team ON contributions(team_id, kind, status);
    CREATE INDEX contributions_person ON contributions(person_id);
    CREATE TABLE transitions (
        id INTEGER PRIMARY KEY,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        from_phase TEXT NOT NULL,
        to_phase TEXT NOT NULL,
        by_telegram_id INTEGER NOT NULL,
        forced INTEGER NOT NULL DEFAULT 0,
        missing TEXT NOT NULL DEFAULT '[]',
        at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        reply_markup TEXT,
        document_name TEXT,
        document BLOB,
        contribution_id INTEGER REFERENCES contributions(id) ON DELETE CASCADE,
        context TEXT,
        priority INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        message_id INTEGER,
        error TEXT
    );
    CREATE INDEX outbox_pending ON outbox(status, id);
    CREATE TABLE allocations (
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        poser_team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        receiver_team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        PRIMARY KEY (swap_id, poser_team_id)
    );
    CREATE TABLE handled_updates (
        update_id INTEGER PRIMARY KEY,
        handled_at TEXT NOT NULL
    )
    """,
    # 2: promises to participants. Which messages quote which contributions, so
    # that withdrawing words also stops every unsent message carrying them (a
    # trigger, so that no path that deletes a contribution can forget it);
    # where an adopted dilemma came from; when an item first reached another
    # team (a later edit resets delivered_at); messages to forget once sent; a
    # person's chosen swap when they are in several.
    """
    CREATE TABLE outbox_quotes (
        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
        contribution_id INTEGER NOT NULL REFERENCES contributions(id) ON DELETE CASCADE,
        PRIMARY KEY (outbox_id, contribution_id)
    ) WITHOUT ROWID;
    CREATE INDEX outbox_quotes_contribution ON outbox_quotes(contribution_id);
    INSERT INTO outbox_quotes (outbox_id, contribution_id)
        SELECT id, contribution_id FROM outbox WHERE contribution_id IS NOT NULL;
    CREATE TRIGGER contributions_take_unsent_quotes BEFORE DELETE ON contributions
    BEGIN
        DELETE FROM outbox WHERE status != 'sent' AND id IN
            (SELECT outbox_id FROM outbox_quotes WHERE contribution_id = OLD.id);
    END;
    ALTER TABLE contributions ADD COLUMN adopted_from INTEGER
        REFERENCES contributions(id) ON DELETE SET NULL;
    ALTER TABLE contributions ADD COLUMN first_delivered_at TEXT;
    UPDATE contributions SET first_delivered_at = delivered_at WHERE ever_delivered = 1;
    ALTER TABLE outbox ADD COLUMN forget_when_sent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE people ADD COLUMN current_swap_id INTEGER
        REFERENCES swaps(id) ON DELETE SET NULL
    """,
    # 3: the timetable. Workshop dates and phase deadlines as wall-clock times (so
    # that a clock change keeps them where people put them); every timed job that
    # has run, by a key that says what it was, so that nothing fires twice; the
    # organiser's announcements between preview and sending; reminder offsets and
    # quiet hours per swap; and whether a transition was made by the timetable.
    """
    CREATE TABLE schedule (
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        what TEXT NOT NULL CHECK (what IN ('dilemma', 'response', 'reflection',
                                           'workshop1', 'workshop2', 'workshop3')),
        local_time TEXT NOT NULL,
        auto INTEGER NOT NULL DEFAULT 0,
        set_by INTEGER NOT NULL,
        set_at TEXT NOT NULL,
        PRIMARY KEY (swap_id, what)
    );
    CREATE TABLE fired (
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        outcome TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (swap_id, key)
    );
    CREATE TABLE announcements (
        id INTEGER PRIMARY KEY,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        by_telegram_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    ALTER TABLE swaps ADD COLUMN reminders TEXT NOT NULL DEFAULT '24h 2h';
    ALTER TABLE swaps ADD COLUMN quiet TEXT NOT NULL DEFAULT '21:00 08:00';
    ALTER TABLE transitions ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0
    """,
    # 4: the research trail. An audit log of what organisers did (never naming
    # participants); co-organisers of a swap; the member check (each team reads
    # its own section of the report and may comment, until a time the organiser
    # sets); comments are people's words, so they go with their author.
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        swap_id INTEGER REFERENCES swaps(id) ON DELETE CASCADE,
        by_telegram_id INTEGER,
        event TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX audit_swap ON audit(swap_id, id);
    CREATE TABLE swap_organisers (
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        telegram_id INTEGER NOT NULL,
        added_by INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (swap_id, telegram_id)
    );
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('draft', 'confirmed')),
        created_at TEXT NOT NULL,
        confirmed_at TEXT
    );
    CREATE INDEX comments_team ON comments(team_id, status);
    ALTER TABLE swaps ADD COLUMN member_check_until TEXT
    """,
    # 5: team groups. A team may link its Telegram group, which then receives
    # what is shared with the whole team; a link waits for the lead's Confirm.
    """
    ALTER TABLE teams ADD COLUMN group_chat_id INTEGER;
    ALTER TABLE teams ADD COLUMN group_title TEXT;
    CREATE UNIQUE INDEX teams_group ON teams(group_chat_id) WHERE group_chat_id IS NOT NULL;
    CREATE TABLE group_links (
        id INTEGER PRIMARY KEY,
        team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        chat_id INTEGER NOT NULL,
        title TEXT NOT NULL,
        requested_by INTEGER NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    # 6: outbox ids are never used twice. Without AUTOINCREMENT, SQLite gives a new
    # row the id of the newest row deleted (a withdrawal deletes a person's rows),
    # and a send still in flight for the deleted row would then record the new row
    # as sent: a message lost. The table is rebuilt with AUTOINCREMENT; the quotes
    # that point at it are kept aside and put back.
    """
    CREATE TABLE outbox_next (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        reply_markup TEXT,
        document_name TEXT,
        document BLOB,
        contribution_id INTEGER REFERENCES contributions(id) ON DELETE CASCADE,
        context TEXT,
        priority INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        message_id INTEGER,
        error TEXT,
        forget_when_sent INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO outbox_next (id, chat_id, text, reply_markup, document_name, document,
        contribution_id, context, priority, status, attempts, not_before, created_at,
        sent_at, message_id, error, forget_when_sent)
        SELECT id, chat_id, text, reply_markup, document_name, document, contribution_id,
        context, priority, status, attempts, not_before, created_at, sent_at, message_id,
        error, forget_when_sent FROM outbox;
    CREATE TEMP TABLE quotes_kept AS SELECT outbox_id, contribution_id FROM outbox_quotes;
    DROP TRIGGER contributions_take_unsent_quotes;
    DROP TABLE outbox;
    ALTER TABLE outbox_next RENAME TO outbox;
    CREATE INDEX outbox_pending ON outbox(status, id);
    CREATE TRIGGER contributions_take_unsent_quotes BEFORE DELETE ON contributions
    BEGIN
        DELETE FROM outbox WHERE status != 'sent' AND id IN
            (SELECT outbox_id FROM outbox_quotes WHERE contribution_id = OLD.id);
    END;
    INSERT INTO outbox_quotes (outbox_id, contribution_id)
        SELECT outbox_id, contribution_id FROM quotes_kept;
    DROP TABLE quotes_kept
    """,
    # 7: an outbox row may edit a message already sent instead of sending a new one
    # (Confirm turns the preview into the receipt); an empty text then means
    # "only remove the buttons".
    """
    ALTER TABLE outbox ADD COLUMN edit_message_id INTEGER
    """,
    # 8: what each person receives. A message may go without a notification
    # (``silent``: a phase move notifies each person once, and the rest of what it
    # owes them follows quietly). A message may be made of blocks, some quoting one
    # contribution each: withdrawing that contribution takes its block out and the
    # message is rebuilt from the blocks left (a trigger, as for quotes, so that no
    # path that deletes words can forget it); when no block that justifies the
    # message is left (``keeps``), the message is not sent at all. Once sent, its
    # blocks go like its text (a trigger: no trip more for the delivery worker).
    # A proposer is told once that the lead adopted their proposal; organisers
    # are told of member-check comments in a digest a day, each comment once.
    """
    ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE contributions ADD COLUMN adoption_told_at TEXT;
    ALTER TABLE comments ADD COLUMN digested INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE outbox_blocks (
        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        html TEXT NOT NULL,
        contribution_id INTEGER REFERENCES contributions(id) ON DELETE CASCADE,
        keeps INTEGER NOT NULL,
        PRIMARY KEY (outbox_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX outbox_blocks_contribution ON outbox_blocks(contribution_id)
        WHERE contribution_id IS NOT NULL;
    CREATE TRIGGER outbox_blocks_rebuild AFTER DELETE ON outbox_blocks
    BEGIN
        DELETE FROM outbox WHERE id = OLD.outbox_id AND status != 'sent' AND NOT EXISTS
            (SELECT 1 FROM outbox_blocks WHERE outbox_id = OLD.outbox_id AND keeps);
        UPDATE outbox SET text = (
            WITH RECURSIVE joined(position, html) AS (
                SELECT -1, ''
                UNION ALL
                SELECT b.position, joined.html || b.html FROM joined JOIN outbox_blocks b
                    ON b.outbox_id = OLD.outbox_id AND b.position = (
                        SELECT MIN(position) FROM outbox_blocks
                        WHERE outbox_id = OLD.outbox_id AND position > joined.position)
            )
            SELECT ltrim(html, char(10)) FROM joined ORDER BY position DESC LIMIT 1)
        WHERE id = OLD.outbox_id AND status != 'sent';
    END;
    CREATE TRIGGER outbox_blocks_sent AFTER UPDATE OF status ON outbox
        WHEN NEW.status = 'sent'
    BEGIN
        DELETE FROM outbox_blocks WHERE outbox_id = NEW.id;
    END
    """,
    # 9: governance. A swap's own information sheet, versioned (each version kept:
    # a consent names the version agreed to); how many months after closing the
    # swap is purged, and until when people may withdraw their words; when it
    # closed (by the bot's clock, from which retention counts); a membership a
    # person left after the withdrawal cut-off, their words kept pseudonymised;
    # the one line a purge leaves in the audit, which outlives the swap; and two
    # indexes: deleting a contribution looks for the edits and adoptions that
    # point at it (their foreign keys), and without them purging a swap of 10,000
    # contributions scanned them all for each one, holding the write lock (which
    # the running bot then waits on) for 49 s; with them, 0.2 s.
    """
    CREATE TABLE sheets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        swap_id INTEGER NOT NULL REFERENCES swaps(id) ON DELETE CASCADE,
        version INTEGER,
        text TEXT NOT NULL,
        set_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        UNIQUE (swap_id, version)
    );
    ALTER TABLE swaps ADD COLUMN retention_months INTEGER;
    ALTER TABLE swaps ADD COLUMN withdrawal TEXT;
    ALTER TABLE swaps ADD COLUMN closed_at TEXT;
    ALTER TABLE memberships ADD COLUMN left_at TEXT;
    ALTER TABLE audit ADD COLUMN purged_swap INTEGER;
    CREATE INDEX contributions_replaces ON contributions(replaces_id);
    CREATE INDEX contributions_adopted ON contributions(adopted_from)
    """,
    # 10: a team's group link belongs to the lead who made it: when they leave the
    # team, the group stops receiving. Links made before are the current lead's;
    # a team whose lead has gone has its link ended.
    """
    ALTER TABLE teams ADD COLUMN group_linked_by INTEGER;
    UPDATE teams SET group_linked_by = (SELECT p.telegram_id FROM memberships m
        JOIN people p ON p.id = m.person_id WHERE m.team_id = teams.id AND m.role = 'lead')
        WHERE group_chat_id IS NOT NULL;
    UPDATE teams SET group_chat_id = NULL, group_title = NULL
        WHERE group_chat_id IS NOT NULL AND group_linked_by IS NULL
    """,
    # 11: a sent message keeps no buttons: their labels may name people ("Remove
    # NAME"), who may since have withdrawn.
    """
    UPDATE outbox SET reply_markup = NULL WHERE status = 'sent'
    """,
    # 12: ids that travel in buttons are never used twice. Without AUTOINCREMENT
    # SQLite gives a new row the id of the newest row deleted: an organiser's
    # "Confirm removal" for someone who has since withdrawn would remove the
    # newcomer who took their membership's id.
    Rebuild("ids that travel in buttons are never used twice", BUTTON_ID_TABLES),
    # Languages and time zones: the language a person reads in (NULL: not chosen,
    # Telegram's guess or English); the one an organiser fixed for a swap; a team's
    # IANA time zone (NULL: the bot's); the language and version of the sheet a
    # consent agreed to; the language each contribution's author wrote in.
    """
    ALTER TABLE people ADD COLUMN language TEXT;
    ALTER TABLE swaps ADD COLUMN language TEXT;
    ALTER TABLE teams ADD COLUMN timezone TEXT;
    ALTER TABLE consents ADD COLUMN language TEXT;
    ALTER TABLE contributions ADD COLUMN language TEXT
    """,
    # The delivery worker's look at the outbox costs the same whatever is waiting:
    # pending rows in the order they go, and per chat, as indexes of the pending
    # rows only (sent ones are most of the table); when the next deferred one
    # falls due; and a chat's rows (what a reply refers to, a chat forgotten,
    # given up or moved) without reading the whole table.
    """
    CREATE INDEX outbox_turns ON outbox(priority, id) WHERE status = 'pending';
    CREATE INDEX outbox_chat_turns ON outbox(chat_id, priority, id) WHERE status = 'pending';
    CREATE INDEX outbox_deferred ON outbox(not_before) WHERE status = 'pending';
    CREATE INDEX outbox_chat ON outbox(chat_id, message_id)
    """,
]
