"""Steps of a swap that the end-to-end tests share: write, confirm, advance."""

from __future__ import annotations

from tests.conftest import create_swap, join

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
    """Optionally send a command, then write text, check the preview, press Confirm."""
    if command:
        await user.send(command)
        await user.expect(lambda m: not m.buttons and m.text)
    await user.send(text)
    preview = await user.expect(lambda m: "Confirm" in labels(m))
    assert text[:40] in "".join(msg.text for msg in user.messages[-3:])
    pressed = await user.press_data(next(b["callback_data"] for row in preview.buttons
                                         for b in row if "Confirm" in b["text"]),
                                    message=preview)
    # The press is answered once its transaction has committed.
    await user.expect_answer(pressed)
    return preview


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
