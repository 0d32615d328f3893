"""`bridge demo`: the whole bridge against the emulators on 127.0.0.1, a scripted day, and a transcript."""

from __future__ import annotations

import asyncio
import copy
import json
import tempfile
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bridge.domain.business_time import clock_for
from bridge.domain.cards import CARD_TS
from bridge.domain.model import TaskGid
from bridge.domain.presence import Person, mention_at
from bridge.sandbox.demo_identity import identity_scene
from bridge.sandbox.demo_kit import Transcript, task_named, tracked_task, until, until_async
from bridge.sandbox.harness import LocalBridge, serve_locally
from bridge.sandbox.world import World, start_world
from bridge.wording import NAG_ABOUT_BLOCK, NAG_DONE_BLOCK, NAG_MORE, NAG_MORE_PUSH, NAG_PRIORITY

TEAM_ZONE = ZoneInfo("America/New_York")
BO_ZONE = ZoneInfo("Europe/Berlin")  # Bo works from Berlin: his Slack profile says so

# The team's policy for the demo: SLAs (so captures get an "Acknowledge" subtask) and a triager who follows them.
DEMO_POLICY = """
[business_hours]
timezone = "America/New_York"
holiday_calendar = "US-NY"  # New York's public holidays are days off, without typing them in

[sla]
P0 = { first_response = "1h", resolution = "4h" }
P1 = { first_response = "4h", resolution = "2d" }
P2 = { first_response = "1d", resolution = "5d" }
P3 = { first_response = "2d", resolution = "10d" }

[triage]
triager = "cy@example.com"

[routing]
reassign_after = "1d"
pool = [
  { email = "ana@example.com", skills = ["webhooks", "python"] },
  { email = "bo@example.com", skills = ["oauth", "node"], hours = "09:00-17:00" },  # in Berlin (see BO_ZONE)
  { email = "cy@example.com", skills = ["docs", "sql"] },
]
"""


async def run_demo(*, keep_running: bool = False) -> int:
    out = Transcript()
    print("Slack ⇄ Asana bridge demo: emulated Slack and Asana on 127.0.0.1, no accounts, no network.")
    world = await start_world()
    world.move("bo", str(BO_ZONE))
    with tempfile.TemporaryDirectory(prefix="bridge-demo-") as workdir:
        local = await serve_locally(world, Path(workdir), policy=DEMO_POLICY, asana_oauth=True)
        try:
            out.line("setup", f"bridge on {local.url}, Slack API {world.slack.api_url}, Asana API {world.asana.url}")
            await _script(world, local, out)
            await _earlier_answers(world, local, out)
            report_url = await _report(world, local, out)
            if keep_running:
                out.line("setup", f"still running; open the report at {report_url}")
                out.line("setup", f"or try {local.url}/healthz or {local.url}/metrics. Ctrl-C stops.")
                await asyncio.Event().wait()
        finally:
            await local.close()
            await world.stop()
    print("\nDemo finished.")
    # The last line: the report's signed link (`--keep-running` keeps it served; otherwise the demo is gone now).
    print(f"Report: {report_url}")
    return 0


async def _script(world: World, local: LocalBridge, out: Transcript) -> None:
    ana = local.slack.user("ana")
    channel = world.channel
    seen = len(world.slack.messages(channel))
    out.people = {user_id: name for name, user_id in world.slack_people.items()}

    def new_posts() -> list[Any]:
        return world.slack.messages(channel)[seen:]

    out.step("Ana links #questions to the Asana project “Developer Questions”")
    text = f"link https://app.asana.com/0/{world.project}/list"
    out.line("slack", f"ana: /asana {text}")
    ack = await ana.slash_command("/asana", text, channel)
    out.line("bridge", f"ack {ack.status} in {ack.elapsed * 1000:.0f} ms: {ack.body}")
    posts = await until(lambda: [m for m in new_posts() if "Linked" in m.text] or None)
    out.line("slack", f"#questions: {posts[-1].text}")
    for hook in world.asana.webhooks:
        out.line("asana", f"webhook {hook.gid} on the project → {hook.target} (handshake answered)")
    seen = len(world.slack.messages(channel))

    out.step("Ana creates a task with /task")
    text = f'Don\'t retry "Save" webhooks without backoff {local.slack.mention("bo", escaped=True)} due:fri p1'
    out.line("slack", f"ana: /task {text}")
    ack = await ana.slash_command("/task", text, channel)
    out.line("bridge", f"ack {ack.status} in {ack.elapsed * 1000:.0f} ms: {ack.body}")
    task = await until(lambda: next(iter(world.asana.store.tasks.values()), None))
    confirmation = await until(
        lambda: [e for e in world.slack.ephemerals("ana") if e.text.startswith("Created in Asana")] or None
    )
    out.line("slack", f"only ana sees: {confirmation[-1].text} [Open in Asana] [Undo]")
    rendered = world.asana.render(
        "task",
        task.gid,
        "name,assignee.name,due_on,followers.name,memberships.section.name,custom_fields.display_value",
    )
    out.line("asana", f"task {task.gid}: {_summary(rendered)}")
    post = await until(lambda: [m for m in new_posts() if m.thread_ts is None] or None)
    out.line("slack", f"#questions: {_plain(post[-1])} (its thread is the task's thread)")

    out.step("Ana turns on auto-capture: every new question in #questions becomes a task")
    out.line("slack", "ana: /asana capture all")
    ack = await ana.slash_command("/asana", "capture all", channel)
    out.line("bridge", f"ack {ack.status}: {ack.body}")
    bo = local.slack.user("bo")
    question = await bo.post_message(channel, "How do I verify webhook signatures?\nMy HMAC never matches.")
    out.line("slack", "bo: How do I verify webhook signatures? / My HMAC never matches.")
    asked = await until(lambda: task_named(world, "How do I verify webhook signatures?"))
    subtasks = await until(lambda: [t.name for t in world.asana.store.tasks.values() if t.parent == asked.gid] or None)
    out.line(
        "asana", f"task {asked.gid}: “{asked.name}”, subtasks {subtasks}, section Needs triage, triager Cy follows"
    )
    thread = await until(lambda: [m for m in world.slack.thread(channel, question.ts or "") if m.bot_id] or None)
    out.line("slack", f"thread reply: {_plain(thread[-1])}")

    out.step("Cy answers in the thread: the reply becomes an Asana comment and acknowledges the question")
    cy = local.slack.user("cy")
    await cy.post_message(channel, "Hash the raw body bytes, not re-serialised JSON.", thread_ts=question.ts)
    out.line("slack", "cy (in the thread): Hash the raw body bytes, not re-serialised JSON.")
    comment = await until(
        lambda: next(
            (st for st in world.asana.store.stories.values() if st.task == asked.gid and st.kind == "comment"), None
        )
    )
    out.line("asana", f"comment on {asked.gid}: {comment.text}")
    ack_task = await until(
        lambda: next((t for t in world.asana.store.tasks.values() if t.parent == asked.gid and t.completed), None)
    )
    out.line("asana", f"subtask “{ack_task.name}” completed: first response recorded")

    out.step("Ana turns an older message into a task with the “Create Asana task” shortcut")
    await ana.slash_command("/asana", "capture off", channel)
    note = await bo.post_message(channel, "The docs page for OAuth scopes is out of date")
    out.line("slack", "bo: The docs page for OAuth scopes is out of date")
    await ana.message_shortcut("create_task", channel, note.ts or "")
    view = (await until(lambda: world.slack.open_views("ana") or None))[-1]
    out.line("slack", "ana: message shortcut → a modal prefilled with the message opens")
    await ana.submit_view(view, {"title": "Update the OAuth scopes page", "priority": "P2"})
    out.line("slack", "ana submits: title “Update the OAuth scopes page”, priority P2")
    docs = await until(lambda: task_named(world, "Update the OAuth scopes page"))
    back = next((line for line in docs.notes.splitlines() if line.startswith("From Slack")), "")
    out.line("asana", f"task {docs.gid}, priority P2; its notes link back: {back}")

    out.step("Changes made in Asana appear in their Slack threads, once each")
    thread_ts = post[-1].ts
    bo_in_asana = world.asana.act(world.asana_people["bo"])
    bo_in_asana.set_due(task.gid, "2026-12-09")
    out.line("asana", "bo moves the due date of the first task to 2026-12-09")
    bo_in_asana.comment(task.gid, "Backoff: 1s, 2s, 4s, then give up.")
    out.line("asana", "bo comments: Backoff: 1s, 2s, 4s, then give up.")
    bo_in_asana.complete(task.gid)
    out.line("asana", "bo marks it complete")
    replies = await until(
        lambda: [m for m in world.slack.thread(channel, thread_ts) if m.bot_id and "completed" in m.text] or None
    )
    for line in replies[-1].text.splitlines():
        out.line("slack", f"thread reply: {line}")
    root = await until(lambda: _card_saying(world, channel, thread_ts, "✅ Done"))
    out.line("slack", f"the task's card now reads: {_plain(root)}")
    bo_in_asana.add_subtask(task.gid, "Add a test for the retry schedule", assignee=world.asana_people["cy"])
    out.line("asana", "bo adds a subtask for Cy: Add a test for the retry schedule")
    subtask = await until(
        lambda: [m for m in world.slack.thread(channel, thread_ts) if m.bot_id and "subtask" in m.text] or None
    )
    out.line("slack", f"thread reply: {subtask[-1].text}")
    bo_in_asana.create_task("Rotate the webhook secret", project=world.project)
    out.line("asana", "bo creates a task in the project: Rotate the webhook secret")
    new_post = await until(
        lambda: [m for m in world.slack.messages(channel) if "Rotate the webhook secret" in m.text] or None
    )
    out.line("slack", f"#questions: {_plain(new_post[-1])} (a new thread for it)")
    counts = await local.bridge.store.inbox_counts()
    out.line(
        "bridge", f"inbox: {counts.get('done', 0)} event(s) relayed or settled, {counts.get('pending', 0)} pending"
    )

    out.step("The scheduler nags: one message per task, naming every reason it is due, with buttons")
    docs_due = world.asana.store.tasks[docs.gid].due_on or date.today()
    out.line("asana", f"“{docs.name}” is due {docs_due} (its P2 SLA set that); the clock moves to that day, 10:00")
    moment = datetime.combine(docs_due, dtime(10, 0), tzinfo=ZoneInfo("America/New_York"))
    nagger = local.bridge.nag_scheduler.nagger
    sent = await nagger.tick(moment)
    nags = _nags(world, channel)
    out.line("bridge", f"one tick at {moment:%a %d %b %H:%M %Z}: {sent} nag message(s), no Asana reads")
    for nag in nags:
        out.line("slack", f"nag in a thread: {nag.text}")
    out.line("bridge", f"a second tick at the same moment: {await nagger.tick(moment)} nag(s)")
    merged = next(m for m in nags if docs.name in m.text)
    p3 = world.asana.option_gid(world.priority_field, "P3")
    await cy.select_option(merged, NAG_PRIORITY, p3)
    out.line("slack", f"cy picks Priority P3 on the nag of “{docs.name}”")
    done = await until(lambda: _acted(world, channel, merged.ts))
    out.line("slack", f"the nag now reads: {_plain(done)} (its buttons stay)")
    docs_tracked = await local.bridge.store.get_tracked_task(TaskGid(docs.gid))
    assert docs_tracked is not None
    card_ts = str(docs_tracked.snapshot.get(CARD_TS))
    card = await until(lambda: _card_saying(world, channel, card_ts, "Priority: P3"))
    out.line("slack", f"its card is drawn again: {_plain(card)}")
    await local.slack.user("bo").choose_overflow(copy.deepcopy(card), NAG_MORE, NAG_MORE_PUSH)
    out.line("slack", "bo picks “Push due +1 week” in the card's menu")
    before = card.text  # the emulator edits the message in place
    pushed = await until(lambda: _card_saying(world, channel, card_ts, "", unlike=before))
    out.line("slack", f"the card now reads: {_plain(pushed)}")
    rendered = world.asana.render(
        "task", docs.gid, "name,due_on,memberships.section.name,custom_fields.display_value,custom_fields.name"
    )
    out.line("asana", f"task {docs.gid}: {_summary(rendered)}")
    said = [st.text for st in world.asana.store.stories.values() if st.task == docs.gid and st.kind == "comment"]
    out.line("asana", f"comments: {' / '.join(said[-2:])}")

    await _routing(world, local, out)
    await _holiday(world, local, out)

    await identity_scene(world, local, out)

    out.step("Health and metrics")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{local.url}/healthz") as response:
            out.line("bridge", f"GET /healthz → {response.status} {json.dumps(await response.json())}")
        async with http.get(f"{local.url}/metrics") as response:
            body = await response.text()
            calls = sum(
                float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith("bridge_api_calls_total")
            )
            worst = max(
                (
                    float(line.rsplit(" ", 1)[1])
                    for line in body.splitlines()
                    if line.startswith("bridge_event_loop_lag_max")
                ),
                default=0.0,
            )
            out.line(
                "bridge",
                f"GET /metrics → {response.status}; {calls:.0f} API calls so far; "
                f"the event loop was held {worst * 1000:.0f} ms at worst",
            )


async def _routing(world: World, local: LocalBridge, out: Transcript) -> None:
    out.step("Routing: unassigned work goes to the right person with the reason, and moves on when it sits")
    channel = world.channel
    scheduler = local.bridge.nag_scheduler
    policy = local.bridge.settings.policy.routing
    hours = local.bridge.settings.policy.business_hours
    clock = clock_for(hours)
    # The scene runs on the team's next working day at 13:00, whatever the hour the demo is run: the team is at
    # work in New York and it is evening in Berlin, so Bo is named without a ping.
    day = local.bridge.clock.now().astimezone(TEAM_ZONE).date() + timedelta(days=1)
    while not clock.is_open(datetime.combine(day, dtime(13), tzinfo=TEAM_ZONE)):
        day += timedelta(days=1)
    now = datetime.combine(day, dtime(13), tzinfo=TEAM_ZONE)
    world.asana.add_ooo_entry(world.asana_people["cy"], day, day, world.workspace)
    out.line("asana", f"Cy is out of office on {day:%a %d %b}")
    out.line("bridge", f"tick at {_both(now)}:")
    await scheduler.tick(now)
    routed = _routed(world, channel)
    for line in routed:
        out.line("slack", f"thread reply: {line}")
    out.line("bridge", "cost per decision: one assignment and one comment; loads come from the bridge's snapshots")
    asked = task_named(world, "How do I verify webhook signatures?")
    section = world.asana.store.sections.get(asked.section_in(world.project) or "") if asked else None
    if asked is not None and asked.assignee is None and section is not None and section.name == "Needs triage":
        out.line("bridge", f"“{asked.name}” is not routed: it waits in triage; routing starts once it has a priority")
    window = clock.span(policy.reassign_after)
    # The ping is due at 3/4 of the window, on New York's calendar; at noon there it is evening in Berlin.
    ping_at = clock.add(now, window * 0.8)
    local_ping = ping_at.astimezone(TEAM_ZONE)
    if local_ping.hour < 12:
        ping_at = local_ping.replace(hour=12, minute=0)
    await scheduler.tick(ping_at)

    def pings() -> list[Any]:
        return [m for m in world.slack.messages(channel, replies=True) if m.text.startswith("⏳")]

    out.line("bridge", f"tick at {_both(ping_at)}: the ping to Bo is due, but it is evening where he is;")
    out.line("bridge", f"  pings sent: {len(pings())}; it waits for his working hours")
    morning = mention_at(hours, Person(timezone=str(BO_ZONE), hours=(dtime(9), dtime(17))), ping_at)
    await scheduler.tick(morning)
    ping = await until(pings)
    out.line("bridge", f"tick at {_both(morning)}:")
    out.line("slack", f"thread reply: {_plain(ping[0])} [Keep it] [Hand it back]")
    move_at = clock.add(morning, window * 0.3)
    await scheduler.tick(move_at)
    out.line("bridge", f"tick at {_both(move_at)}, nobody acted:")
    for line in _routed(world, channel)[len(routed) :]:
        out.line("slack", f"thread reply: {line}")


def _both(moment: datetime) -> str:
    """A moment on the team's clock and on Bo's."""
    team, bo = moment.astimezone(TEAM_ZONE), moment.astimezone(BO_ZONE)
    return f"{team:%a %d %b %H:%M} in New York ({bo:%a %H:%M} in Berlin)"


async def _holiday(world: World, local: LocalBridge, out: Transcript) -> None:
    out.step("A public holiday: the scheduler keeps the team's calendar, with New York's holidays from the package")
    hours = local.bridge.settings.policy.business_hours
    today = datetime.now(TEAM_ZONE).date()
    holiday = min(d for d in hours.calendar_days if d > today + timedelta(days=7) and d.weekday() in hours.days)
    out.line("bridge", f'holiday_calendar = "US-NY": {holiday:%a %d %b %Y} is a day off, though nobody typed it in')
    nagger = local.bridge.nag_scheduler.nagger
    at_holiday = datetime.combine(holiday, dtime(10), tzinfo=TEAM_ZONE)
    out.line("bridge", f"tick at {at_holiday:%a %d %b %H:%M %Z}: {await nagger.tick(at_holiday)} nag(s)")
    after = clock_for(hours).next_open(at_holiday + timedelta(days=1)).astimezone(TEAM_ZONE) + timedelta(hours=1)
    sent = await nagger.tick(after)
    out.line("bridge", f"tick at {after:%a %d %b %H:%M %Z}, the next working day: {sent} nag(s), held over the holiday")


def _routed(world: World, channel: str) -> list[str]:
    said = world.slack.messages(channel, replies=True)
    return [m.text for m in said if m.bot_id and (m.text.startswith("🧭") or "nobody could take" in m.text)]


async def _report(world: World, local: LocalBridge, out: Transcript) -> str:
    """`/asana report`: the channel's summary with a signed link to the report page; returns that link."""
    out.step("Ana asks for the SLA report: a summary in the channel with a signed link to the page")
    out.line("slack", "ana: /asana report")
    await local.slack.user("ana").slash_command("/asana", "report", world.channel)
    summary = await until(
        lambda: next((m for m in world.slack.messages(world.channel) if m.bot_id and "SLA report" in m.text), None)
    )
    out.line("slack", f"#questions: {summary.text}")
    url = str((summary.blocks or [])[2]["elements"][0]["url"])
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            page = await response.text()
            out.line("bridge", f"GET /report → {response.status}: {page.count('data-task=')} open item(s), SVG charts")
        async with http.get(url.replace("/report?", "/report.csv?")) as response:
            rows = (await response.text()).count("\n") - 1
            out.line("bridge", f"GET /report.csv → {response.status}: {rows} row(s)")
        async with http.get(url[:-1] + ("0" if url[-1] != "0" else "1")) as response:
            out.line("bridge", f"GET /report with an altered signature → {response.status}, no data")
    return url


def _nags(world: World, channel: str) -> list[Any]:
    return [
        m
        for m in world.slack.messages(channel, replies=True)
        if any(str(b.get("block_id", "")) == NAG_ABOUT_BLOCK for b in m.blocks or [])
    ]


def _card_saying(world: World, channel: str, ts: str, words: str, *, unlike: str | None = None) -> Any:
    """The card at `ts` once it says `words` (and no longer reads `unlike`), else None."""
    found = next((m for m in world.slack.messages(channel, replies=True) if m.ts == ts), None)
    if found is None or words not in found.text or found.text == unlike:
        return None
    return found


def _acted(world: World, channel: str, ts: str) -> Any:
    """The nag at `ts` once someone has acted on it (what was done replaces what it asked), else None."""
    message = next((m for m in world.slack.messages(channel, replies=True) if m.ts == ts), None)
    if message is None or not any(b.get("block_id") == NAG_DONE_BLOCK for b in message.blocks or []):
        return None
    return message


def _summary(task: dict[str, Any]) -> str:
    parts = [f"“{task.get('name')}”"]
    if task.get("assignee"):
        parts.append(f"assignee {task['assignee'].get('name')}")
    if task.get("due_on"):
        parts.append(f"due {task['due_on']}")
    followers = [f.get("name") for f in task.get("followers") or []]
    if followers:
        parts.append(f"followers {', '.join(followers)}")
    for field in task.get("custom_fields") or []:
        if field.get("display_value"):
            parts.append(f"{field.get('name') or 'field'} {field['display_value']}")
    sections = [m["section"]["name"] for m in task.get("memberships") or [] if m.get("section")]
    if sections:
        parts.append(f"section {', '.join(sections)}")
    return ", ".join(parts)


def _plain(message: Any) -> str:
    texts = [b["text"]["text"] for b in message.blocks or [] if b.get("type") == "section" and b.get("text")]
    texts += [e["text"] for b in message.blocks or [] if b.get("type") == "context" for e in b.get("elements") or []]
    return " / ".join(texts) if texts else str(message.text)


HISTORY = (
    ("How do I rotate the webhook secret?", "Unlink and link the channel again: the bridge registers a new webhook."),
    ("Staging database is read-only", "It is during the nightly backup, 02:00-02:30; writes work again after."),
    ("Where are the API docs?", "In the repo under docs/api, published at every release."),
)


async def _earlier_answers(world: World, local: LocalBridge, out: Transcript) -> None:
    """A question asked before gets the earlier answer in its thread, and the asker closes it with one click."""
    out.step("Earlier answers: a repeated question is answered at once from resolved work")
    store: Any = local.bridge.store
    bo = world.asana.act(world.asana_people["bo"])
    for question, answer in HISTORY:
        await local.slack.user("cy").slash_command("/task", question, world.channel)
        task = await until(lambda q=question: task_named(world, q))  # type: ignore[misc]
        await until_async(lambda g=task.gid: tracked_task(local, g))  # type: ignore[misc]
        bo.comment(task.gid, answer)
        bo.complete(task.gid)
        out.line("asana", f"bo answers “{question}”: {answer} (and completes it)")
    for question, _ in HISTORY:
        gid = task_named(world, question).gid
        await until_async(lambda g=gid: _indexed(store, g))  # type: ignore[misc]
    out.line("bridge", f"{len(HISTORY)} resolved tasks in the index (SQLite FTS5), fed by what the relay read")
    question = "webhook secret rotation: how?"
    out.line("slack", f"ana: /task {question}")
    await local.slack.user("ana").slash_command("/task", question, world.channel)
    new = await until(lambda: task_named(world, question))
    suggestion = await until(lambda: _suggestion(world, world.channel))
    out.line("slack", f"thread reply: {_plain(suggestion)} [That answers it] [Not it]")
    await local.slack.user("ana").click_button(suggestion, "suggest_accept")
    await until(lambda: world.asana.store.tasks[new.gid].completed or None)
    comments = [s.text for s in world.asana.store.stories.values() if s.task == new.gid and s.kind == "comment"]
    out.line("asana", f"“{question}” completed; comment: {comments[-1]}")
    out.line("slack", f"thread reply now: {_plain(await until(lambda: _settled(world, suggestion.ts)))}")
    await local.slack.user("cy").slash_command("/asana", "similar staging database read only", world.channel)
    found = await until(lambda: [e for e in world.slack.ephemerals("cy") if "Resolved tasks like" in e.text])
    out.line("slack", f"cy: /asana similar staging database read only → only Cy sees: {_plain(found[-1])}")


async def _indexed(store: Any, gid: str) -> bool:
    found = await store.get_answer(gid)
    return found is not None and found.resolved_at is not None and bool(found.answer)


def _suggestion(world: World, channel: str) -> Any:
    said = world.slack.messages(channel, replies=True)
    return next((m for m in said if m.bot_id and m.text.startswith("This may have been answered before")), None)


def _settled(world: World, ts: str) -> Any:
    said = world.slack.messages(world.channel, replies=True)
    return next((m for m in said if m.ts == ts and "Answered by an earlier task" in m.text), None)
