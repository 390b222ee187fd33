"""Steps of a swap that the end-to-end tests share: write, confirm, advance."""

from __future__ import annotations

import re

from tests.support.bot import BOT_USERNAME

DILEMMAS = {
    "North": "Our steering groups each own a piece of early help, so anything integrated "
    "is always owned by somebody, and that excludes somebody else. Who should "
    "hold the whole picture for a family?",
    "South": "Head teachers are judged on attainment, so time spent talking to other "
    "professionals feels like time taken from results. How do we make joint "
    "work count for schools without adding another target?",
    "East": "Practitioners feel safe in their own office but not in a shared room. How "
    "do we build a team identity without diluting professional boundaries?",
    "West": "Our health visitors and social workers keep separate records of the same "
    "child. Whose assessment comes first when they disagree?",
}


def labels(message) -> list[str]:
    return message.button_labels()


async def write_and_confirm(user, text: str, command: str | None = None):
    """Optionally send a command, write text, check the preview, press Confirm; return
    the receipt the preview became."""
    if command:
        await user.send(command)
        await user.expect(lambda m: not m.buttons and m.text)
    await user.send(text)
    preview = await user.expect(lambda m: "Confirm" in labels(m))
    assert text[:40] in "".join(msg.text for msg in user.messages[-3:])
    pressed = await user.press_data(
        next(b["callback_data"] for row in preview.buttons for b in row if "Confirm" in b["text"]),
        message=preview,
    )
    # The press is answered once its transaction has committed; then the
    # preview itself becomes the receipt (or, if too long, loses its buttons).
    await user.expect_answer(pressed)
    return await user.expect_edit(preview, lambda m: "Confirm" not in labels(m))


async def advance(organiser, force: bool = False):
    """/advance, read the preview, press Confirm; return (preview, result)."""
    await organiser.send("/advance force" if force else "/advance")
    preview = await organiser.expect(lambda m: any("Confirm" in b for b in labels(m)))
    await organiser.expect_answer(await organiser.press("Confirm"))
    result = await organiser.expect(lambda m: m is not preview and not m.buttons)
    return preview, result


async def set_up(standin, organiser, title: str, teams: list[str]):
    """A swap with a lead and a member in every team, all consented; in setup."""
    tokens = await create_swap(organiser, title, teams)
    people = {}
    for team in teams:
        for role in ("lead", "member"):
            user = standin.user(first_name=f"{team}{role.title()}Person")
            await join(user, tokens[team][role])
            people[team, role] = user
    return people


LINK = re.compile(r"https://t\.me/" + BOT_USERNAME + r"\?start=([A-Za-z0-9_-]+)")


def links_in(text: str) -> dict[str, str]:
    """The lead and member tokens of an /addteam answer, by the word on their line."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = LINK.search(line)
        if match:
            role = (
                "lead" if "lead" in line.lower() else "member" if "member" in line.lower() else None
            )
            assert role is not None, f"a link on a line naming no role: {line!r}"
            found[role] = match.group(1)
    return found


async def create_swap(organiser, title: str, teams: list[str]) -> dict[str, dict[str, str]]:
    """Create a swap and its teams; return each team's lead and member tokens."""
    await organiser.send(f"/newswap {title}")
    await organiser.expect(title)
    tokens = {}
    for team in teams:
        await organiser.send(f"/addteam {team}")
        message = await organiser.expect(lambda m, t=team: t in m.text and "start=" in m.text)
        tokens[team] = links_in(message.text)
        assert set(tokens[team]) == {"lead", "member"}
    return tokens


async def join(user, token: str) -> None:
    """Start with a token, read the information sheet, agree, get the receipt."""
    await user.send(f"/start {token}")
    sheet = await user.expect(lambda m: any("I agree" in b for b in m.button_labels()))
    await user.press("I agree")
    # The sheet becomes the receipt.
    await user.expect_edit(sheet, lambda m: "you have joined" in m.text)


async def withdraw(user, choose: str | None = None):
    """/withdraw, optionally choose a swap, then confirm; return the final answer."""
    await user.send("/withdraw")
    if choose:
        await user.expect(lambda m: any(choose in b for b in m.button_labels()))
        await user.press(choose)
    ask = await user.expect(lambda m: "Confirm withdrawal" in m.button_labels())
    await user.expect_answer(await user.press("Confirm withdrawal"))
    done = await user.expect(lambda m: "You have withdrawn" in m.text)
    return ask, done
