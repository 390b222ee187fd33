"""What organisers do to set a swap up and watch it: swaps, teams, links, status."""

from __future__ import annotations

from bot.model import Kind, Phase, Role, Swap
from bot.service import Core, Mail, Refusal, Who
from bot.text import Html
from storage.stores import Tx

TITLE_LIMIT = 120
TEAM_NAME_LIMIT = 60


class Organising:
    """``/newswap``, ``/swaps``, ``/addteam``, ``/revoke``, ``/status``, ``/settings``."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def _organiser(self, who: Who) -> None:
        if not self.core.is_organiser(who):
            raise Refusal("errors/organisers_only")

    async def new_swap(self, who: Who, title: str) -> None:
        """Create a swap in setup and make it the organiser's current one."""

        async def action(tx: Tx, mail: Mail) -> None:
            self._organiser(who)
            clean = " ".join(title.split())
            if not clean:
                raise Refusal("organiser/newswap_usage")
            if len(clean) > TITLE_LIMIT:
                raise Refusal("organiser/title_too_long", limit=TITLE_LIMIT)
            swap = await tx.swaps.create(clean, who.telegram_id)
            await tx.organisers.set_current_swap(who.telegram_id, swap.id)
            await mail.send(who.telegram_id, "organiser/swap_created", title=swap.title)

        await self.core.act(who, action)

    async def list_swaps(self, who: Who) -> None:
        """List every swap with a button to make it current."""

        async def action(tx: Tx, mail: Mail) -> None:
            self._organiser(who)
            swaps = await tx.swaps.created_by(who.telegram_id)
            if not swaps:
                raise Refusal("organiser/no_swaps")
            current = await tx.organisers.current_swap_id(who.telegram_id)
            lines = [self.core.html("organiser/swap_line", title=s.title,
                                    phase=self.core.label(f"phase_{s.phase.value}"),
                                    mark="▶️" if s.id == current else "•")
                     for s in swaps]
            buttons = [[(self.core.label("switch_swap", title=s.title[:40]), f"swap:{s.id}")]
                       for s in swaps if s.id != current]
            await mail.send(who.telegram_id, "organiser/swaps", lines=Html("\n".join(lines)),
                            buttons=buttons or None)

        await self.core.act(who, action)

    async def switch_swap(self, who: Who, swap_id: int) -> bool:
        """Make another swap the organiser's current one."""
        async def action(tx: Tx, mail: Mail) -> None:
            self._organiser(who)
            swap = await tx.swaps.get(swap_id)
            if swap is None or swap.created_by != who.telegram_id:
                raise Refusal("errors/stale_button")
            await tx.organisers.set_current_swap(who.telegram_id, swap.id)
            await mail.send(who.telegram_id, "organiser/swap_switched", title=swap.title,
                            phase=self.core.label(f"phase_{swap.phase.value}"))

        return await self.core.act(who, action)

    async def add_team(self, who: Who, name: str) -> None:
        """Add a team to the current swap and give its two invite links."""

        async def action(tx: Tx, mail: Mail) -> None:
            swap = await self.core.current_swap(tx, who)
            clean = " ".join(name.split())
            if not clean:
                raise Refusal("organiser/addteam_usage")
            if len(clean) > TEAM_NAME_LIMIT:
                raise Refusal("organiser/team_name_too_long", limit=TEAM_NAME_LIMIT)
            if swap.phase is not Phase.SETUP:
                raise Refusal("organiser/teams_only_in_setup", title=swap.title)
            if await tx.teams.by_name(swap.id, clean) is not None:
                raise Refusal("organiser/team_exists", team=clean)
            team = await tx.teams.create(swap.id, clean)
            lead = await tx.invites.create(team.id, Role.LEAD)
            member = await tx.invites.create(team.id, Role.MEMBER)
            await mail.send(who.telegram_id, "organiser/team_added", team=team.name,
                            title=swap.title, lead_link=self.core.link(lead.token),
                            member_link=self.core.link(member.token))

        await self.core.act(who, action)

    async def revoke(self, who: Who, token: str | None) -> None:
        """Revoke a link given by token, or list the links to choose from."""

        async def action(tx: Tx, mail: Mail) -> None:
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
                    buttons.append([(label, f"rv:{invite.id}")])
            if not buttons:
                raise Refusal("organiser/revoke_nothing", title=swap.title)
            await mail.send(who.telegram_id, "organiser/revoke_choose", title=swap.title,
                            buttons=buttons)

        await self.core.act(who, action)

    async def revoke_pressed(self, who: Who, invite_id: int) -> bool:
        """The organiser chose a link to revoke."""
        async def action(tx: Tx, mail: Mail) -> None:
            swap = await self.core.current_swap(tx, who)
            invite = await tx.invites.get(invite_id)
            team = await tx.teams.get(invite.team_id) if invite else None
            if invite is None or team is None or team.swap_id != swap.id or invite.revoked:
                raise Refusal("errors/stale_button")
            await self._revoke_and_replace(tx, mail, who, invite.id)

        return await self.core.act(who, action)

    async def _revoke_and_replace(self, tx: Tx, mail: Mail, who: Who, invite_id: int) -> None:
        invite = await tx.invites.get(invite_id)
        assert invite is not None
        team = await tx.teams.get(invite.team_id)
        assert team is not None
        await tx.invites.revoke(invite.id)
        # A revoked link is usually a leaked one: the team still needs a way in.
        fresh = await tx.invites.create(team.id, invite.role)
        await mail.send(who.telegram_id, "organiser/revoked", team=team.name,
                        role=self.core.label(f"role_{invite.role.value}"),
                        link=self.core.link(fresh.token))

    async def status(self, who: Who) -> None:
        """The organiser's view of the current swap, or a lead's view of their team."""

        async def action(tx: Tx, mail: Mail) -> None:
            if self.core.is_organiser(who):
                swap = await self.core.current_swap(tx, who)
                teams = await tx.teams.of_swap(swap.id)
            else:
                member = await self.core.member(tx, who)
                if member.role is not Role.LEAD:
                    raise Refusal("errors/status_leads_only")
                swap, teams = member.swap, [member.team]
            body = await self.render_status(tx, swap, teams)
            await mail.send(who.telegram_id, "status/header", title=swap.title,
                            phase=self.core.label(f"phase_{swap.phase.value}"), body=body)

        await self.core.act(who, action)

    async def render_status(self, tx: Tx, swap: Swap, teams: list) -> Html:
        core = self.core
        blocks: list[str] = []
        unreachable = {"blocked": 0, "not_started": 0}
        if not teams:
            return core.html("status/no_teams")
        for team in teams:
            lines = []
            members = await tx.memberships.of_team(team.id)
            for membership, person in members:
                progress = await self._progress(tx, swap, person.id, membership.role)
                if person.chat_status in unreachable:
                    unreachable[person.chat_status] += 1
                lines.append(core.html(
                    "status/person", name=person.display_name,
                    role=core.label(f"role_{membership.role.value}"),
                    consented=core.local_time(membership.joined_at),
                    progress=progress))
            if not members:
                lines.append(core.html("status/nobody_yet"))
            declined = await tx.consents.declined_count(team.id)
            team_line = await self._team_progress(tx, swap, team.id)
            blocks.append(core.html(
                "status/team", team=team.name, count=len(members),
                people=Html("\n".join(lines)), team_progress=team_line,
                declined=core.html("status/declined", count=declined) if declined else ""))
        if any(unreachable.values()):
            blocks.append(core.html("status/unreachable", not_started=unreachable["not_started"],
                                    blocked=unreachable["blocked"]))
        return Html("\n\n".join(blocks))

    async def _progress(self, tx: Tx, swap: Swap, person_id: int, role: Role) -> Html:
        """A person's contributions in the current phase, as a short phrase."""
        core = self.core
        kinds = {Phase.DILEMMA: Kind.PROPOSAL, Phase.RESPONSE: Kind.ANSWER,
                 Phase.REFLECTION: Kind.REFLECTION, Phase.CLOSED: Kind.REFLECTION}
        kind = kinds.get(swap.phase)
        if kind is None:
            return Html("")
        count = len(await tx.contributions.confirmed(swap_id=swap.id, person_id=person_id,
                                                     kind=kind))
        if count:
            return core.html(f"status/contributed_{kind.value}", count=count)
        return core.html("status/not_yet")

    async def _team_progress(self, tx: Tx, swap: Swap, team_id: int) -> Html:
        core = self.core
        kind = {Phase.DILEMMA: Kind.DILEMMA, Phase.RESPONSE: Kind.TEAM_RESPONSE}.get(swap.phase)
        if kind is None:
            return Html("")
        done = bool(await tx.contributions.confirmed(team_id=team_id, kind=kind))
        return core.html(f"status/team_{kind.value}_{'done' if done else 'missing'}")

    async def settings(self, who: Who) -> None:
        """Show the current swap's settings with buttons to change them."""
        await self.core.act(who, lambda tx, mail: self._show_settings(tx, mail, who))

    async def _show_settings(self, tx: Tx, mail: Mail, who: Who) -> None:
        core = self.core
        swap = await core.current_swap(tx, who)
        buttons = []
        for allocation in ("auto", "pairs", "ring"):
            if allocation != swap.allocation:
                buttons.append([(core.label(f"set_allocation_{allocation}"),
                                 f"set:{swap.id}:allocation:{allocation}")])
        other_release = "all_at_once" if swap.reflection_release == "one_at_a_time" \
            else "one_at_a_time"
        buttons.append([(core.label(f"set_release_{other_release}"),
                         f"set:{swap.id}:reflection_release:{other_release}")])
        buttons.append([(core.label("set_names_on" if not swap.share_names else "set_names_off"),
                         f"set:{swap.id}:share_names:{0 if swap.share_names else 1}")])
        await mail.send(who.telegram_id, "organiser/settings", title=swap.title,
                        allocation=core.label(f"allocation_{swap.allocation}"),
                        release=core.label(f"release_{swap.reflection_release}"),
                        names=core.label("names_shared" if swap.share_names
                                         else "names_hidden"),
                        buttons=buttons)

    async def change_setting(self, who: Who, swap_id: int, key: str, value: str) -> bool:
        """An organiser pressed a settings button."""
        allowed = {"allocation": {"auto", "pairs", "ring"},
                   "reflection_release": {"one_at_a_time", "all_at_once"},
                   "share_names": {"0", "1"}}

        async def action(tx: Tx, mail: Mail) -> None:
            swap = await self.core.current_swap(tx, who)
            if swap.id != swap_id or value not in allowed.get(key, ()):
                raise Refusal("errors/stale_button")
            if key == "allocation" and swap.phase not in (Phase.SETUP, Phase.DILEMMA):
                raise Refusal("organiser/allocation_fixed")
            stored: object = int(value) if key == "share_names" else value
            await tx.swaps.update_settings(swap.id, **{key: stored})
            await self._show_settings(tx, mail, who)

        return await self.core.act(who, action)
