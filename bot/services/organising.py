"""What organisers do to set a swap up and watch it: swaps, teams, links, status."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import callbacks as cb
from bot.model import (
    Allocation,
    ChatStatus,
    Kind,
    Membership,
    Person,
    Phase,
    Release,
    Role,
    Swap,
    Team,
    Waiting,
)
from bot.services.core import Buttons, Core, Mail, Refusal, Who, act
from bot.services.privacy import leave
from bot.services.scheduling import show_quiet
from bot.services.sheets import Sheets, retention_words
from bot.text import Html
from bot.timetable import (
    RETENTION_MONTHS,
    RETENTION_WARNINGS,
    Unclear,
    add_months,
    parse_retention,
    parse_withdrawal,
)
from storage.tx import Tx

log = logging.getLogger(__name__)

TITLE_LIMIT = 120
TEAM_NAME_LIMIT = 60

# Characters that show as nothing (beyond Unicode's format and control
# categories, which are removed as a class).
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_SETTING_VALUES = {
    "allocation": {a.value for a in Allocation},
    "reflection_release": {r.value for r in Release},
    "share_names": {"0", "1"},
}


class BadName(Exception):
    """A name that cannot be used; ``reason`` says why, for the prompt."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# What a person contributes in each phase, for /status.
_PHASE_KIND = {
    Phase.DILEMMA: Kind.PROPOSAL,
    Phase.RESPONSE: Kind.ANSWER,
    Phase.REFLECTION: Kind.REFLECTION,
    Phase.CLOSED: Kind.REFLECTION,
}


def normalise_name(raw: str) -> str:
    """A swap or team name as people will see and compare it.

    NFKC folds compatibility forms (full-width letters, ligatures); invisible
    characters go; white space is collapsed. A name with nothing visible, or
    with a word mixing Latin, Cyrillic and Greek letters (a look-alike such as
    "Nоrth" with a Cyrillic o), is refused. Why not a confusables library: a
    mixed-script check over ``unicodedata`` is enough for names an organiser
    types, without carrying Unicode's confusables tables.
    """
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(
        " " if c.isspace() else c
        for c in text
        if c not in _BLANKS and unicodedata.category(c) not in ("Cf", "Cc", "Co", "Cs", "Cn")
    )
    clean = " ".join(text.split())
    if not any(unicodedata.category(c)[0] in "LN" for c in clean):
        raise BadName("empty")
    for word in clean.split():
        scripts = {unicodedata.name(c, "").split(" ")[0] for c in word if c.isalpha()}
        if len(scripts.intersection(_SCRIPTS)) > 1:
            raise BadName("mixed_scripts")
    return clean


def same_name(a: str, b: str) -> bool:
    """Whether two normalised names would be taken for the same one."""
    return a.casefold() == b.casefold()


class Organising:
    """``/newswap``, ``/swaps``, ``/addteam``, ``/revoke``, ``/status``, ``/settings``."""

    def __init__(self, core: Core, sheets: Sheets) -> None:
        self.core = core
        # Whether the swap's information sheet still has unfilled fields (/status).
        self.sheets = sheets
        # Called after a retention changed, so that the timetable wakes in time.
        self.on_change: Callable[[], None] = lambda: None

    def _organiser(self, who: Who) -> None:
        if not self.core.is_organiser(who):
            raise Refusal("errors/organisers_only")

    @act
    async def new_swap(self, tx: Tx, mail: Mail, who: Who, title: str) -> None:
        """Create a swap in setup and make it the organiser's current one."""
        self._organiser(who)
        if not title.strip():
            raise Refusal("organiser/newswap_usage")
        clean = self._name(title, TITLE_LIMIT, "organiser/title_too_long")
        if any(same_name(s.title, clean) for s in await tx.swaps.created_by(who.telegram_id)):
            raise Refusal("organiser/swap_exists", title=clean)
        swap = await tx.swaps.create(clean, who.telegram_id)
        await tx.organisers.set_current_swap(who.telegram_id, swap.id)
        await mail.send(who.telegram_id, "organiser/swap_created", title=swap.title)

    @act
    async def list_swaps(self, tx: Tx, mail: Mail, who: Who) -> None:
        """List every swap with a button to make it current."""
        self._organiser(who)
        swaps = await tx.swaps.organised_by(who.telegram_id)
        if not swaps:
            raise Refusal("organiser/no_swaps")
        current = await tx.organisers.current_swap_id(who.telegram_id)
        lines = [
            self.core.html(
                "organiser/swap_line",
                title=s.title,
                phase=self.core.label(f"phase_{s.phase.value}"),
                mark="▶️" if s.id == current else "•",
            )
            for s in swaps
        ]
        buttons = [
            [(self.core.label("switch_swap", title=s.title[:40]), cb.SWITCH_SWAP.pack(s.id))]
            for s in swaps
            if s.id != current
        ]
        await mail.send(
            who.telegram_id,
            "organiser/swaps",
            lines=Html("\n".join(lines)),
            buttons=buttons or None,
        )

    @act
    async def switch_swap(self, tx: Tx, mail: Mail, who: Who, swap_id: int) -> None:
        """Make another swap the organiser's current one."""
        swap = await self.core.organised_swap(tx, who, swap_id)
        await tx.organisers.set_current_swap(who.telegram_id, swap.id)
        await mail.send(
            who.telegram_id,
            "organiser/swap_switched",
            title=swap.title,
            phase=self.core.label(f"phase_{swap.phase.value}"),
        )

    @act
    async def add_team(self, tx: Tx, mail: Mail, who: Who, name: str) -> None:
        """Add a team to the current swap and give its two invite links."""
        swap = await self.core.current_swap(tx, who)
        if not name.strip():
            raise Refusal("organiser/addteam_usage")
        clean = await self._team_name(tx, swap, name)
        if swap.phase is not Phase.SETUP:
            raise Refusal("organiser/teams_only_in_setup", title=swap.title)
        team = await tx.teams.create(swap.id, clean)
        lead = await tx.invites.create(team.id, Role.LEAD)
        member = await tx.invites.create(team.id, Role.MEMBER)
        await mail.send(
            who.telegram_id,
            "organiser/team_added",
            team=team.name,
            title=swap.title,
            lead_link=self.core.link(lead.token),
            member_link=self.core.link(member.token),
        )

    def _name(self, raw: str, limit: int, too_long: str) -> str:
        try:
            clean = normalise_name(raw)
        except BadName as bad:
            raise Refusal(f"organiser/name_{bad.reason}") from None
        if len(clean) > limit:
            raise Refusal(too_long, limit=limit)
        return clean

    async def _team_name(self, tx: Tx, swap: Swap, raw: str, renaming: int | None = None) -> str:
        clean = self._name(raw, TEAM_NAME_LIMIT, "organiser/team_name_too_long")
        for team in await tx.teams.of_swap(swap.id):
            if team.id != renaming and same_name(team.name, clean):
                raise Refusal("organiser/team_exists", team=team.name)
        return clean

    @act
    async def revoke(self, tx: Tx, mail: Mail, who: Who, token: str | None) -> None:
        """Revoke a link given by token, or list the links to choose from."""
        swap = await self.core.current_swap(tx, who)
        if token:
            invite = await tx.invites.by_token(token.rsplit("start=", 1)[-1])
            team = await tx.teams.get(invite.team_id) if invite else None
            if invite is None or team is None or team.swap_id != swap.id:
                raise Refusal("organiser/revoke_unknown")
            if invite.revoked:
                raise Refusal("organiser/revoke_already")
            await self._revoke_and_replace(tx, mail, who, invite.id)
            return
        buttons = []
        for team in await tx.teams.of_swap(swap.id):
            for invite in await tx.invites.active_of_team(team.id):
                label = self.core.label(f"revoke_{invite.role.value}", team=team.name[:40])
                buttons.append([(label, cb.REVOKE.pack(invite.id))])
        if not buttons:
            raise Refusal("organiser/revoke_nothing", title=swap.title)
        await mail.send(
            who.telegram_id, "organiser/revoke_choose", title=swap.title, buttons=buttons
        )

    @act
    async def revoke_pressed(self, tx: Tx, mail: Mail, who: Who, invite_id: int) -> None:
        """The organiser chose a link to revoke."""
        swap = await self.core.current_swap(tx, who)
        invite = await tx.invites.get(invite_id)
        team = await tx.teams.get(invite.team_id) if invite else None
        if invite is None or team is None or team.swap_id != swap.id or invite.revoked:
            raise Refusal("errors/stale_button")
        await self._revoke_and_replace(tx, mail, who, invite.id)

    async def _revoke_and_replace(self, tx: Tx, mail: Mail, who: Who, invite_id: int) -> None:
        invite = await tx.invites.get(invite_id)
        assert invite is not None
        team = await tx.teams.get(invite.team_id)
        assert team is not None
        await tx.invites.revoke(invite.id)
        await tx.audit.record(
            team.swap_id, who.telegram_id, "link_revoked", role=invite.role.value, team=team.name
        )
        # A revoked link is usually a leaked one: the team still needs a way in.
        fresh = await tx.invites.create(team.id, invite.role)
        await mail.send(
            who.telegram_id,
            "organiser/revoked",
            team=team.name,
            role=self.core.label(f"role_{invite.role.value}"),
            link=self.core.link(fresh.token),
        )
        # Whoever came in through a leaked link is still in: show them, so
        # the organiser can tell the team's people from strangers.
        joined = await tx.memberships.joined_by(invite.id)
        if joined:
            await mail.send(
                who.telegram_id,
                "organiser/revoked_joiners",
                team=team.name,
                names=Html(
                    "\n".join(
                        self.core.html(
                            "organiser/person_line",
                            name=p.display_name,
                            joined=self.core.local_time(m.joined_at),
                        )
                        for m, p in joined
                    )
                ),
                buttons=self._remove_buttons(joined, team),
            )

    def _remove_buttons(self, people: list[tuple[Membership, Person]], team: Team) -> Buttons:
        return [
            [
                (
                    self.core.label("remove_person", name=p.display_name[:30], team=team.name[:20]),
                    cb.REMOVE_PERSON.pack(m.id),
                )
            ]
            for m, p in people
        ]

    # -- removing people, renaming and removing teams ------------------------

    @act
    async def remove_people(self, tx: Tx, mail: Mail, who: Who) -> None:
        """``/remove``: everyone in the current swap, each with a button to remove them."""
        swap = await self.core.current_swap(tx, who)
        buttons: Buttons = []
        for team in await tx.teams.of_swap(swap.id):
            # Someone who left after the withdrawal cut-off and insists can still
            # be removed, with their words: they are listed like everyone else.
            buttons += self._remove_buttons(await tx.memberships.of_team(team.id, left=True), team)
        if not buttons:
            raise Refusal("organiser/remove_nobody", title=swap.title)
        await mail.send(
            who.telegram_id, "organiser/remove_choose", title=swap.title, buttons=buttons
        )

    async def _membership(
        self, tx: Tx, who: Who, membership_id: int
    ) -> tuple[Swap, Team, Membership, Person]:
        """A membership in a swap this organiser may act on, or a refusal."""
        membership = await tx.memberships.get(membership_id)
        if membership is None:
            raise Refusal("errors/stale_button")
        swap = await self.core.organised_swap(tx, who, membership.swap_id)
        team = await tx.teams.get(membership.team_id)
        person = await tx.people.get(membership.person_id)
        assert team is not None and person is not None
        return swap, team, membership, person

    @act
    async def remove_person_asked(self, tx: Tx, mail: Mail, who: Who, membership_id: int) -> None:
        """Say what removing this person deletes; ask to confirm."""
        swap, team, membership, person = await self._membership(tx, who, membership_id)
        count = len(
            [c for c in await tx.contributions.of_person(person.id) if c.swap_id == swap.id]
        )
        await mail.send(
            who.telegram_id,
            "organiser/remove_confirm",
            name=person.display_name,
            team=team.name,
            role=self.core.label(f"role_{membership.role.value}"),
            contributions=self.core.plural("contributions", count),
            buttons=[
                [(self.core.label("confirm_remove"), cb.REMOVE_PERSON_CONFIRM.pack(membership.id))],
                [(self.core.label("cancel"), cb.CANCEL.pack())],
            ],
        )

    @act
    async def remove_person(self, tx: Tx, mail: Mail, who: Who, membership_id: int) -> None:
        """Take a person out of a team, with everything they wrote in that swap."""
        swap, team, membership, person = await self._membership(tx, who, membership_id)
        await leave(self.core, tx, mail, person, [membership])
        log.info("Someone was removed from team %d of swap %d", team.id, swap.id)
        await tx.audit.record(
            swap.id, who.telegram_id, "removal", role=membership.role.value, team=team.name
        )
        await mail.send(
            person.telegram_id,
            "organiser/removed_you",
            team=team.name,
            title=swap.title,
            forget_when_sent=True,
        )
        await mail.send(
            who.telegram_id, "organiser/removed", name=person.display_name, team=team.name
        )

    @act
    async def teams(self, tx: Tx, mail: Mail, who: Who, words: list[str] | None = None) -> None:
        """``/teams``: the current swap's teams, each with its time zone; during setup,
        buttons to rename or remove; at any time, one to unlink a team's group.
        ``/teams zone <team> <IANA zone>`` sets a team's
        zone (the dates its people read, and its quiet hours)."""
        swap = await self.core.current_swap(tx, who)
        teams = await tx.teams.of_swap(swap.id)
        if not teams:
            raise Refusal("status/no_teams")
        if words:
            await self._set_zone(tx, mail, who, swap, teams, list(words))
            return
        lines = []
        for team in teams:
            members = await tx.memberships.of_team(team.id)
            lines.append(
                self.core.html(
                    "organiser/team_line",
                    team=team.name,
                    count=len(members),
                    group=self.core.html("organiser/team_group", group=team.group_title or "")
                    if team.group_chat_id
                    else "",
                    zone=self.core.zone_of(team).key,
                )
            )
        buttons: Buttons = []
        if swap.phase is Phase.SETUP:
            buttons = [
                [
                    (self.core.label("rename_team", team=t.name[:30]), cb.RENAME_TEAM.pack(t.id)),
                    (self.core.label("remove_team", team=t.name[:30]), cb.REMOVE_TEAM.pack(t.id)),
                ]
                for t in teams
            ]
        buttons += [
            [
                (
                    self.core.label("unlink_team_group", team=t.name[:30]),
                    cb.UNLINK_TEAM_GROUP.pack(t.id),
                )
            ]
            for t in teams
            if t.group_chat_id
        ]
        await mail.send(
            who.telegram_id,
            "organiser/teams",
            title=swap.title,
            lines=Html("\n".join(lines)),
            note=self.core.html("organiser/teams_fixed") if swap.phase is not Phase.SETUP else "",
            buttons=buttons or None,
        )

    async def _set_zone(
        self, tx: Tx, mail: Mail, who: Who, swap: Swap, teams: list[Team], words: list[str]
    ) -> None:
        """``/teams zone <team> <zone>``: a team's IANA time zone (``default``: the bot's)."""
        if len(words) < 3 or words[0].lower() != "zone":
            raise Refusal("organiser/zone_usage", zone=self.core.zone.key)
        name, zone = " ".join(words[1:-1]), words[-1]
        team = next((t for t in teams if t.name.casefold() == name.casefold()), None)
        if team is None:
            raise Refusal("organiser/zone_no_team", team=name, zone=self.core.zone.key)
        if zone.lower() == "default":
            zone = self.core.zone.key
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Refusal("organiser/zone_unknown", zone=zone) from None
        await tx.teams.set_timezone(team.id, None if zone == self.core.zone.key else zone)
        self.core.forget_readers(tx)
        await tx.audit.record(swap.id, who.telegram_id, "team_zone", team=team.name, zone=zone)
        await mail.send(who.telegram_id, "organiser/zone_set", team=team.name, zone=zone)
        self.on_change()  # reminders now follow the team's quiet hours

    async def _setup_team(self, tx: Tx, who: Who, team_id: int) -> tuple[Swap, Team]:
        team = await tx.teams.get(team_id)
        if team is None:
            raise Refusal("errors/stale_button")
        swap = await self.core.organised_swap(tx, who, team.swap_id)
        if swap.phase is not Phase.SETUP:
            raise Refusal("organiser/teams_only_in_setup", title=swap.title)
        return swap, team

    @act
    async def rename_team_asked(self, tx: Tx, mail: Mail, who: Who, team_id: int) -> None:
        """Wait for the team's new name."""
        _, team = await self._setup_team(tx, who, team_id)
        await tx.conversations.set(who.telegram_id, Waiting.RENAMING_TEAM, team_id=team.id)
        await mail.send(who.telegram_id, "organiser/rename_ask", team=team.name)

    @act
    async def rename_team(self, tx: Tx, mail: Mail, who: Who, team_id: int, name: str) -> None:
        """The organiser sent the new name of a team."""
        swap, team = await self._setup_team(tx, who, team_id)
        clean = await self._team_name(tx, swap, name, renaming=team.id)
        await tx.conversations.clear(who.telegram_id)
        await tx.teams.rename(team.id, clean)
        await mail.send(who.telegram_id, "organiser/renamed", old=team.name, team=clean)

    @act
    async def remove_team_asked(self, tx: Tx, mail: Mail, who: Who, team_id: int) -> None:
        """Say what removing a team means; ask to confirm."""
        _, team = await self._setup_team(tx, who, team_id)
        members = await tx.memberships.of_team(team.id)
        await mail.send(
            who.telegram_id,
            "organiser/remove_team_confirm",
            team=team.name,
            people=self.core.plural("people", len(members)),
            buttons=[
                [(self.core.label("confirm_remove"), cb.REMOVE_TEAM_CONFIRM.pack(team.id))],
                [(self.core.label("cancel"), cb.CANCEL.pack())],
            ],
        )

    @act
    async def remove_team(self, tx: Tx, mail: Mail, who: Who, team_id: int) -> None:
        """Remove a team during setup; its people are told and leave with it."""
        swap, team = await self._setup_team(tx, who, team_id)
        for membership, person in await tx.memberships.of_team(team.id):
            await leave(self.core, tx, mail, person, [membership])
            await mail.send(
                person.telegram_id,
                "organiser/team_removed_member",
                team=team.name,
                title=swap.title,
                forget_when_sent=True,
            )
        await tx.teams.delete(team.id)
        await tx.audit.record(swap.id, who.telegram_id, "team_removed", team=team.name)
        await mail.send(who.telegram_id, "organiser/team_removed", team=team.name, title=swap.title)

    @act
    async def status(self, tx: Tx, mail: Mail, who: Who) -> None:
        """The organiser's view of the current swap, or a lead's view of their team."""
        if self.core.is_organiser(who):
            swap = await self.core.current_swap(tx, who)
            teams = await tx.teams.of_swap(swap.id)
        else:
            member = await self.core.member(tx, who)
            if member.role is not Role.LEAD:
                raise Refusal("errors/status_leads_only")
            swap, teams = member.swap, [member.team]
        body = await self.render_status(tx, swap, teams)
        await mail.send(
            who.telegram_id,
            "status/header",
            title=swap.title,
            phase=self.core.label(f"phase_{swap.phase.value}"),
            body=body,
            sheet=await self.sheets.warning(tx, swap) if self.core.is_organiser(who) else "",
            refusals=self.core.html(
                "status/refusals", times=self.core.plural("times", self.core.refusals())
            )
            if self.core.refusals() and self.core.is_organiser(who)
            else "",
        )

    async def render_status(self, tx: Tx, swap: Swap, teams: list) -> Html:
        core = self.core
        blocks: list[str] = []
        unreachable = {ChatStatus.BLOCKED: 0, ChatStatus.NOT_STARTED: 0}
        if not teams:
            return core.html("status/no_teams")
        headlines: list[str] = []
        kind = _PHASE_KIND.get(swap.phase)
        # Everyone's count in one query, not one a person.
        counts = await tx.contributions.confirmed_per_person(swap.id, kind) if kind else {}
        for team in teams:
            lines = []
            members = await tx.memberships.of_team(team.id)
            contributed = 0
            for membership, person in members:
                count = counts.get(person.id, 0)
                progress = self._progress(kind, count)
                contributed += count > 0
                if person.chat_status in unreachable:
                    unreachable[person.chat_status] += 1
                lines.append(
                    core.html(
                        "status/person",
                        name=person.display_name,
                        role=core.label(f"role_{membership.role.value}"),
                        consented=core.local_time(membership.joined_at),
                        progress=progress,
                    )
                )
            if not members:
                lines.append(core.html("status/nobody_yet"))
            declined = await tx.consents.declined_count(team.id)
            team_line = await self._team_progress(tx, swap, team.id)
            headlines.append(
                core.html(
                    "status/headline",
                    team=team.name,
                    joined=core.html(
                        "status/headline_joined_declined" if declined else "status/headline_joined",
                        count=len(members),
                        declined=declined,
                    ),
                    contributed=core.html(
                        f"status/headline_{kind.value}", count=contributed, of=len(members)
                    )
                    if kind is not None and members
                    else "",
                    team_progress=team_line,
                )
            )
            blocks.append(
                core.html(
                    "status/team",
                    team=team.name,
                    people=Html("\n".join(lines)),
                    group=core.html("status/group", group=team.group_title or "")
                    if team.group_chat_id
                    else "",
                )
            )
        if any(unreachable.values()):
            blocks.append(
                core.html(
                    "status/unreachable",
                    not_started=unreachable[ChatStatus.NOT_STARTED],
                    blocked=unreachable[ChatStatus.BLOCKED],
                )
            )
        # One headline a team first, so that a long swap's state shows at a glance.
        return Html("\n".join(headlines) + "\n\n" + "\n\n".join(blocks))

    def _progress(self, kind: Kind | None, count: int) -> Html:
        """A person's contributions in the current phase, as a short phrase."""
        if kind is None:
            return Html("")
        if count:
            return self.core.html(f"status/contributed_{kind.value}", count=count)
        return self.core.html("status/not_yet")

    async def _team_progress(self, tx: Tx, swap: Swap, team_id: int) -> Html:
        core = self.core
        kind = {Phase.DILEMMA: Kind.DILEMMA, Phase.RESPONSE: Kind.TEAM_RESPONSE}.get(swap.phase)
        if kind is None:
            return Html("")
        done = bool(await tx.contributions.confirmed(team_id=team_id, kind=kind))
        return core.html(f"status/team_{kind.value}_{'done' if done else 'missing'}")

    @act
    async def settings(self, tx: Tx, mail: Mail, who: Who) -> None:
        """Show the current swap's settings with buttons to change them."""
        await self._show_settings(tx, mail, who, await self.core.current_swap(tx, who))

    async def _show_settings(self, tx: Tx, mail: Mail, who: Who, swap: Swap) -> None:
        core = self.core
        swap = await tx.swaps.get(swap.id) or swap  # as it is now, after any change
        buttons: Buttons = []
        if not await tx.allocations.get(swap.id):
            for allocation in Allocation:
                if allocation != swap.allocation:
                    buttons.append(
                        [
                            (
                                core.label(f"set_allocation_{allocation}"),
                                cb.SETTING.pack(swap.id, "allocation", allocation),
                            )
                        ]
                    )
        other_release = (
            Release.ALL_AT_ONCE
            if swap.reflection_release is Release.ONE_AT_A_TIME
            else Release.ONE_AT_A_TIME
        )
        buttons.append(
            [
                (
                    core.label(f"set_release_{other_release}"),
                    cb.SETTING.pack(swap.id, "reflection_release", other_release),
                )
            ]
        )
        if swap.phase is Phase.SETUP:
            buttons.append(
                [
                    (
                        core.label("set_names_on" if not swap.share_names else "set_names_off"),
                        cb.SETTING.pack(swap.id, "share_names", 0 if swap.share_names else 1),
                    )
                ]
            )
        await mail.send(
            who.telegram_id,
            "organiser/settings",
            title=swap.title,
            allocation=core.label(f"allocation_{swap.allocation}"),
            release=core.label(f"release_{swap.reflection_release}"),
            names=core.label("names_shared" if swap.share_names else "names_hidden"),
            reminders=", ".join(swap.reminders.split()),
            quiet=show_quiet(core, swap),
            retention=retention_words(core.prompts_now(), swap) or core.label("retention_none"),
            withdrawal=self.sheets.withdrawal_words(swap) or core.label("withdrawal_not_chosen"),
            language=core.prompts.language_name(swap.language)
            if swap.language
            else core.label("language_each"),
            buttons=buttons,
        )

    @act
    async def change_governance(self, tx: Tx, mail: Mail, who: Who, words: list[str]) -> None:
        """``/settings retention <N>m`` (months after closing, then purged) or
        ``/settings withdrawal always | until-close | until <YYYY-MM-DD>``."""
        swap = await self.core.current_swap(tx, who)
        key = words[0].lower()
        try:
            if key == "retention":
                if len(words) != 2:
                    raise Unclear("retention")
                months = parse_retention(words[1])
                await self._check_retention(swap, months)
                await tx.swaps.update_settings(swap.id, retention_months=months)
                value = f"{months}m"
            else:
                value = parse_withdrawal(words[1:], self.core.zone, self.core.clock())
                await tx.swaps.update_settings(swap.id, withdrawal=value)
        except Unclear as unclear:
            low, high = RETENTION_MONTHS
            raise Refusal(f"organiser/bad_{unclear.reason}", low=low, high=high) from None
        await tx.audit.record(swap.id, who.telegram_id, "setting", name=key, value=value)
        changed = await tx.swaps.get(swap.id)
        assert changed is not None
        # The built-in sheet says both settings; a swap's own says what it says.
        sheet = self.core.html(
            "organiser/sheet_own_unchanged"
            if await tx.sheets.in_force(swap.id)
            else "organiser/sheet_builtin_changed"
        )
        if key == "retention":
            purge_at = await self._purge_at(changed)
            await mail.send(
                who.telegram_id,
                "organiser/retention_set",
                title=swap.title,
                months=retention_words(self.core.prompts_now(), changed),
                when=self.core.html("organiser/retention_on", when=self.core.local_when(purge_at))
                if purge_at
                else "",
                closed=self.core.html("organiser/retention_after_close") if not purge_at else "",
                sheet=sheet,
            )
        else:
            await mail.send(
                who.telegram_id,
                "organiser/withdrawal_set",
                title=swap.title,
                until=self.sheets.withdrawal_words(changed),
                sheet=sheet,
            )
        self.on_change()

    async def _purge_at(self, swap: Swap, months: int | None = None) -> datetime | None:
        """When a closed swap with a retention is purged (None: not closed yet)."""
        months = months or swap.retention_months
        if swap.closed_at is None or months is None:
            return None
        return add_months(datetime.fromisoformat(swap.closed_at), months, self.core.zone)

    async def _check_retention(self, swap: Swap, months: int) -> None:
        """A retention that would purge a closed swap sooner than its first warning
        is refused: nobody may lose a record without two weeks' notice."""
        purge_at = await self._purge_at(swap, months)
        if purge_at is not None and purge_at - self.core.clock() < RETENTION_WARNINGS[0]:
            raise Refusal(
                "organiser/retention_too_soon",
                title=swap.title,
                when=self.core.local_when(purge_at),
                days=RETENTION_WARNINGS[0].days,
                swap=swap.id,
            )

    @act
    async def change_setting(
        self, tx: Tx, mail: Mail, who: Who, swap_id: int, key: str, value: str
    ) -> None:
        """An organiser pressed a settings button; the settings of that swap are shown."""
        swap = await self.core.organised_swap(tx, who, swap_id)
        if value not in _SETTING_VALUES.get(key, ()):
            raise Refusal("errors/stale_button")
        # Once the dilemmas have been swapped (even if the swap was reopened
        # since), teams have read their partner's dilemma: pairing them anew
        # would orphan that work, so the allocation stays as it was.
        if key == "allocation" and await tx.allocations.get(swap.id):
            raise Refusal("organiser/allocation_fixed")
        # People confirmed their words under the promise the preview made
        # (names shown or not): that promise cannot change under them.
        if key == "share_names" and swap.phase is not Phase.SETUP:
            raise Refusal("organiser/names_fixed")
        stored: object = int(value) if key == "share_names" else value
        await tx.swaps.update_settings(swap.id, **{key: stored})
        await tx.audit.record(swap.id, who.telegram_id, "setting", name=key, value=value)
        await self._show_settings(tx, mail, who, swap)
