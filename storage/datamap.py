"""The data map: what each table and column of the database holds, whether it is
personal data, who can see it through the bot, and when it is deleted.

``python -m bot datamap`` prints it as Markdown for a data protection impact
assessment or a data management plan. The tables and columns come from the
schema itself (``storage.migrations``, applied to a fresh in-memory database),
the descriptions from here: a migration that adds a column must add its line
below, or ``tests/test_datamap.py`` fails, so the map cannot go stale.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass

from storage.db import _SCHEMA, _statements
from storage.migrations import MIGRATIONS

# What a column is, for data protection.
ID = "personal: identifies a person (Telegram id or name)"
WORDS = "personal: people's own words (research data)"
PSEUDONYMOUS = "pseudonymous: linked to a person only through the people table"
NO = "no"

# When rows go, said once for the tables that share it.
WITH_SWAP = (
    "with the swap: when it is purged (`python -m bot purge`, or at the end of its retention)"
)
WITH_PERSON = "when the person withdraws or is removed (`/withdraw`, `/remove`), else with the swap"


@dataclass(frozen=True)
class Table:
    holds: str
    seen_by: str
    deleted: str
    columns: dict[str, tuple[str, str]]  # name: (personal?, what it holds)


TABLES: dict[str, Table] = {
    "swaps": Table(
        "one row per swap: its title, phase and settings",
        "its organisers (/status, /settings); its members see the title",
        WITH_SWAP,
        {
            "id": (NO, "the swap's number (the one /swaps and the command line show)"),
            "title": (NO, "the swap's title, as the organiser gave it"),
            "phase": (NO, "setup, dilemma, response, reflection or closed"),
            "allocation": (NO, "pairs, ring or automatic: who works on whose dilemma"),
            "reflection_release": (NO, "reflection rounds one at a time or all at once"),
            "rounds_released": (NO, "how many reflection rounds are open"),
            "share_names": (NO, "whether shared material and exports carry names"),
            "created_by": (ID, "the Telegram id of the organiser who created it"),
            "created_at": (NO, "when it was created (UTC)"),
            "reminders": (NO, "how long before a deadline reminders go"),
            "quiet": (NO, "hours in which no reminder goes"),
            "member_check_until": (NO, "until when the member check takes comments"),
            "retention_months": (NO, "months after closing at which the swap is purged"),
            "withdrawal": (NO, "until when withdrawing deletes a person's words"),
            "closed_at": (NO, "when it closed, from which retention counts"),
            "language": (NO, "the language an organiser fixed for everyone in the swap"),
        },
    ),
    "organisers": Table(
        "each organiser's current swap",
        "that organiser",
        "never by the bot (an organiser's own setting; the swap is unset when purged)",
        {
            "telegram_id": (ID, "the organiser's Telegram id"),
            "current_swap_id": (NO, "the swap their commands act on"),
        },
    ),
    "swap_organisers": Table(
        "co-organisers a swap was shared with (/share)",
        "the swap's organisers (/audit)",
        WITH_SWAP,
        {
            "swap_id": (NO, "the swap"),
            "telegram_id": (ID, "the co-organiser's Telegram id"),
            "added_by": (ID, "the Telegram id of the organiser who shared it"),
            "added_at": (NO, "when"),
        },
    ),
    "teams": Table(
        "the teams of each swap",
        "organisers; each member sees their own team's and the partner team's name",
        WITH_SWAP,
        {
            "id": (NO, "the team's number"),
            "swap_id": (NO, "its swap"),
            "name": (NO, "its name (usually a locality)"),
            "position": (NO, "its place in the swap's list"),
            "created_at": (NO, "when it was added"),
            "group_chat_id": (NO, "the Telegram id of the team's linked group, if any"),
            "group_title": (NO, "that group's title"),
            "group_linked_by": (
                ID,
                "the Telegram id of the lead who linked it (the link ends when they leave)",
            ),
            "timezone": (NO, "the team's time zone (IANA name), if not the swap's"),
        },
    ),
    "group_links": Table(
        "a team group's link waiting for the lead's Confirm",
        "the lead who asked",
        "when confirmed or replaced; with the team",
        {
            "id": (NO, "the request's number"),
            "team_id": (NO, "the team"),
            "chat_id": (NO, "the group's Telegram id"),
            "title": (NO, "the group's title"),
            "requested_by": (ID, "the Telegram id of the lead who asked"),
            "created_at": (NO, "when"),
        },
    ),
    "invites": Table(
        "the invite links of each team (one for the lead, one for members)",
        "organisers (/addteam, /revoke)",
        WITH_SWAP,
        {
            "id": (NO, "the link's number"),
            "token": (NO, "the random token in the link"),
            "team_id": (NO, "the team it admits to"),
            "role": (NO, "lead or member"),
            "created_at": (NO, "when it was made"),
            "revoked_at": (NO, "when it was revoked, if it was"),
        },
    ),
    "people": Table(
        "everyone who agreed to an information sheet",
        "organisers see names in /status and /remove; team leads see their team's names;"
        " the person sees all of it (/mydata)",
        "when the person leaves their last swap (withdrawal, removal, purge)",
        {
            "id": (PSEUDONYMOUS, "the person's number inside the database"),
            "telegram_id": (ID, "their Telegram user id (also their private chat)"),
            "display_name": (ID, "their name as Telegram gives it"),
            "pseudonym": (PSEUDONYMOUS, "a random id used in exports instead of their name"),
            "chat_status": (NO, "whether the bot can write to them (ok, blocked, not started)"),
            "created_at": (NO, "when they first agreed"),
            "current_swap_id": (NO, "the swap they act in when they belong to several"),
            "language": (NO, "the language they read the bot in (chosen, or Telegram's)"),
        },
    ),
    "memberships": Table(
        "who is in which team, in which role",
        "organisers and the team's lead (/status); the person (/mydata)",
        WITH_PERSON,
        {
            "id": (PSEUDONYMOUS, "the membership's number"),
            "person_id": (PSEUDONYMOUS, "the person"),
            "swap_id": (NO, "the swap"),
            "team_id": (NO, "the team"),
            "role": (NO, "lead or member"),
            "invite_id": (NO, "the link they joined by"),
            "joined_at": (NO, "when they agreed and joined"),
            "left_at": (NO, "when they left after the withdrawal cut-off (words kept)"),
        },
    ),
    "consents": Table(
        "each answer to an information sheet: agreed or declined, to which version",
        "the person (/mydata); organisers see the number who declined (/status)",
        "with the team; a person's link to it is cut when they withdraw"
        " (the record that someone agreed stays)",
        {
            "id": (NO, "the answer's number"),
            "person_id": (PSEUDONYMOUS, "who agreed (empty for a decline, or after withdrawal)"),
            "team_id": (NO, "the team"),
            "role": (NO, "lead or member"),
            "decision": (NO, "agreed or declined"),
            "sheet_version": (NO, "the version of the sheet answered"),
            "language": (NO, "the language of the sheet agreed to (empty for a decline)"),
            "decided_at": (NO, "when"),
        },
    ),
    "sheets": Table(
        "a swap's own information sheets (/sheet), every confirmed version kept",
        "the swap's organisers; everyone joining reads the version in force",
        WITH_SWAP,
        {
            "id": (NO, "the sheet's number"),
            "swap_id": (NO, "the swap"),
            "version": (NO, "its version in the swap (empty while only previewed)"),
            "text": (NO, "the sheet's words, as the organiser sent them"),
            "set_by": (ID, "the Telegram id of the organiser who sent it"),
            "created_at": (NO, "when it was sent"),
            "confirmed_at": (NO, "when it was put in force"),
        },
    ),
    "conversations": Table(
        "what the bot is waiting for from a person (a draft's text, an answer)",
        "nobody: the bot's own state",
        "when the wait ends; when the person leaves their last swap",
        {
            "telegram_id": (ID, "the person's Telegram id"),
            "state": (NO, "what is awaited"),
            "data": (NO, "the wait's details (ids, a time)"),
            "updated_at": (NO, "when it began"),
        },
    ),
    "contributions": Table(
        "everything people write: proposals, dilemmas, answers, team responses, reflections",
        "the author; their team (shared items); the partner team (what is shared with it,"
        " under the team's name); organisers (/export)",
        WITH_PERSON + "; drafts nobody confirms after seven days",
        {
            "id": (NO, "the contribution's number (exports show a UUID derived from it)"),
            "swap_id": (NO, "the swap"),
            "team_id": (NO, "the author's team"),
            "person_id": (PSEUDONYMOUS, "the author"),
            "kind": (NO, "proposal, dilemma, answer, team response or reflection"),
            "about_team_id": (NO, "the team whose dilemma it answers"),
            "round": (NO, "the reflection round"),
            "text": (WORDS, "what they wrote"),
            "status": (NO, "draft, confirmed or superseded"),
            "replaces_id": (NO, "the contribution an edit replaces"),
            "created_at": (NO, "when written"),
            "confirmed_at": (NO, "when confirmed"),
            "delivered_at": (NO, "when it last reached another team"),
            "ever_delivered": (NO, "whether it ever reached another team"),
            "adopted_from": (NO, "the proposal a team dilemma took word for word"),
            "first_delivered_at": (NO, "when it first reached another team"),
            "adoption_told_at": (NO, "when its proposer was told the lead adopted it"),
            "language": (
                NO,
                "the language its author read the bot in (the words are never translated)",
            ),
        },
    ),
    "comments": Table(
        "comments in the member check on a team's part of the report",
        "the author; organisers (/export: beside the team's part, and as records under a"
        " pseudonym, never a name)",
        WITH_PERSON,
        {
            "id": (NO, "the comment's number"),
            "swap_id": (NO, "the swap"),
            "team_id": (NO, "the team"),
            "person_id": (PSEUDONYMOUS, "the author"),
            "text": (WORDS, "what they wrote"),
            "status": (NO, "draft or confirmed"),
            "created_at": (NO, "when written"),
            "confirmed_at": (NO, "when confirmed"),
            "digested": (NO, "whether the organisers' daily digest has counted it"),
        },
    ),
    "transitions": Table(
        "each move of a swap from phase to phase",
        "organisers (/audit, the report's timeline)",
        WITH_SWAP,
        {
            "id": (NO, "the move's number"),
            "swap_id": (NO, "the swap"),
            "from_phase": (NO, "the phase before"),
            "to_phase": (NO, "the phase after"),
            "by_telegram_id": (ID, "the Telegram id of the organiser who moved it"),
            "forced": (NO, "whether it was forced"),
            "missing": (NO, "what was missing, if forced (team names, never people)"),
            "at": (NO, "when"),
            "automatic": (NO, "whether the timetable made it"),
        },
    ),
    "allocations": Table(
        "which team works on whose dilemma",
        "organisers; each team sees its partner",
        WITH_SWAP,
        {
            "swap_id": (NO, "the swap"),
            "poser_team_id": (NO, "the team that posed the dilemma"),
            "receiver_team_id": (NO, "the team that works on it"),
        },
    ),
    "schedule": Table(
        "workshop dates and deadlines (/schedule)",
        "organisers; members see the dates that concern them",
        WITH_SWAP,
        {
            "swap_id": (NO, "the swap"),
            "what": (NO, "a phase's deadline or a workshop"),
            "local_time": (NO, "when, in the configured time zone"),
            "auto": (NO, "whether the swap moves on by itself then"),
            "set_by": (ID, "the Telegram id of the organiser who set it"),
            "set_at": (NO, "when it was set"),
        },
    ),
    "fired": Table(
        "every timed job that ran (reminders, notes, warnings), and each export an"
        " out-of-date notice was sent for, so that none runs twice",
        "nobody: the bot's own record",
        WITH_SWAP,
        {
            "swap_id": (NO, "the swap"),
            "key": (NO, "which job, and for which time"),
            "outcome": (NO, "what it did (a count, never a person)"),
            "at": (NO, "when"),
        },
    ),
    "announcements": Table(
        "an organiser's announcement between its preview and its sending",
        "the organiser who wrote it",
        WITH_SWAP + "; its text is blanked once sent",
        {
            "id": (NO, "the announcement's number"),
            "swap_id": (NO, "the swap"),
            "text": (NO, "the organiser's words (blank once sent)"),
            "by_telegram_id": (ID, "the Telegram id of the organiser"),
            "created_at": (NO, "when written"),
            "sent_at": (NO, "when sent"),
        },
    ),
    "audit": Table(
        "what organisers did, and when; withdrawals without who",
        "the swap's organisers (/audit)",
        WITH_SWAP + "; a purge leaves one line without content (the swap's number, counts)",
        {
            "id": (NO, "the line's number"),
            "swap_id": (NO, "the swap (empty for a purge's line)"),
            "by_telegram_id": (ID, "the Telegram id of the organiser who acted"),
            "event": (NO, "what happened"),
            "detail": (NO, "its details: team names, counts, settings; never a participant"),
            "at": (NO, "when"),
            "purged_swap": (NO, "for a purge's line, the number of the swap purged"),
        },
    ),
    "outbox": Table(
        "every message the bot owes, until Telegram accepted it",
        "its recipient, once delivered",
        "its words and files are blanked once sent; rows go with the person's last swap",
        {
            "id": (NO, "the message's number"),
            "chat_id": (ID, "the recipient's Telegram chat id"),
            "text": (WORDS, "the message (may quote people's words) until sent"),
            "reply_markup": (ID, "its buttons (an organiser's may name people)"),
            "document_name": (NO, "a file's name"),
            "document": (WORDS, "a file (an export, /mydata) until sent"),
            "contribution_id": (NO, "the contribution it previews or quotes"),
            "context": (NO, "what it is for (a draft, a phase's message)"),
            "priority": (NO, "replies before bulk messages"),
            "status": (NO, "pending, sent or failed"),
            "attempts": (NO, "how many times it was tried"),
            "not_before": (NO, "not to be sent before this time"),
            "created_at": (NO, "when owed"),
            "sent_at": (NO, "when Telegram accepted it"),
            "message_id": (NO, "its id in the chat"),
            "error": (NO, "Telegram's last refusal, if any"),
            "forget_when_sent": (NO, "whether it is deleted once sent"),
            "edit_message_id": (NO, "the message it edits instead of sending a new one"),
            "silent": (NO, "whether it goes without a notification"),
        },
    ),
    "outbox_blocks": Table(
        "the parts of a message made of blocks, so that a withdrawal takes its block out",
        "its recipient, once delivered",
        "once the message is sent; with the message or the contribution it quotes",
        {
            "outbox_id": (NO, "the message"),
            "position": (NO, "the block's place in it"),
            "html": (WORDS, "the block's words (may quote people's words) until sent"),
            "contribution_id": (NO, "the contribution it quotes, if any"),
            "keeps": (NO, "whether the message is still worth sending with only this block"),
        },
    ),
    "outbox_quotes": Table(
        "which messages quote which contributions, so a withdrawal stops them",
        "nobody: the bot's own record",
        "with the message or the contribution",
        {
            "outbox_id": (NO, "the message"),
            "contribution_id": (NO, "a contribution it quotes"),
        },
    ),
    "handled_updates": Table(
        "the ids of Telegram updates already handled, so that none is handled twice",
        "nobody: the bot's own record",
        "never (ids only: a number and a time)",
        {
            "update_id": (NO, "Telegram's update id"),
            "handled_at": (NO, "when it was handled"),
        },
    ),
    "sqlite_sequence": Table(
        "SQLite's own counter of the ids given so far, so that none is given twice",
        "nobody",
        "never (table names and numbers)",
        {"name": (NO, "a table"), "seq": (NO, "the last id it gave")},
    ),
}


def live_schema() -> dict[str, list[str]]:
    """Every table and its columns, as the migrations make them."""
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        for migration in MIGRATIONS:
            for statement in _statements(migration, conn.execute(_SCHEMA).fetchall()):
                conn.execute(statement)
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        # Table names come from the schema itself, not from input.
        return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in names}


def undescribed(schema: dict[str, list[str]]) -> list[str]:
    """``table.column`` for each column of the schema that has no description."""
    return [
        f"{table}.{column}"
        for table, columns in schema.items()
        for column in columns
        if table not in TABLES or column not in TABLES[table].columns
    ]


def datamap() -> str:
    """The data map as Markdown: every table and column of the live schema."""
    schema = live_schema()
    missing = undescribed(schema)
    if missing:
        raise ValueError(f"columns without a description in storage/datamap.py: {missing}")
    out = [
        "# Dilemma Swap: data map",
        "",
        f"Every table and column of the database (schema version {len(MIGRATIONS)}), generated"
        " by `python -m bot datamap` from the schema itself. The whole database is one SQLite"
        " file (`DATABASE_PATH`) on the server that runs the bot; nothing else is stored."
        ' "Who sees it" means through the bot; the server\'s operator can read the file.',
        "",
    ]
    for table, columns in schema.items():
        described = TABLES[table]
        out += [
            f"## `{table}`",
            "",
            f"- Holds: {described.holds}.",
            f"- Who sees it: {described.seen_by}.",
            f"- Deleted: {described.deleted}.",
            "",
            "| column | personal data | what it holds |",
            "|---|---|---|",
        ]
        for column in columns:
            personal, what = described.columns[column]
            out.append(f"| `{column}` | {personal} | {what} |")
        out.append("")
    return "\n".join(out)
