"""The index of resolved work on both engines (SQLite FTS5 + bm25, PostgreSQL tsvector + GIN + ts_rank_cd), and the
deflection records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bridge.adapters.store import SqlStore
from bridge.domain.model import ChannelId, ProjectGid, SlackUserId, TaskGid, TeamId
from bridge.domain.suggest import Answer, Deflection, Outcome, Scope, terms

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
T = TeamId("T1")
C = ChannelId("C1")
P = ProjectGid("100")


def answer(gid: str, title: str, text_: str = "", **kw: object) -> Answer:
    base = Answer(
        task_gid=TaskGid(gid),
        team_id=T,
        channel_id=C,
        project_gids=(P,),
        title=title,
        permalink_url=f"https://app.asana.com/0/100/{gid}",
        asked_at=NOW - timedelta(days=3),
        answer=text_,
        answered_by=("Ana",),
        resolved_at=NOW - timedelta(days=1),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


async def search(store: SqlStore, question: str, scope: Scope | None = None) -> list[str]:
    found = await store.search_answers(terms(question), scope or Scope(T, C, (P,)), limit=5)
    return [m.answer.task_gid for m in found]


async def test_a_resolved_task_is_found_by_its_words_the_best_first(store: SqlStore) -> None:
    await store.save_answer(answer("1", "VPN drops every hour", "Renew the certificate in the VPN client settings"))
    await store.save_answer(answer("2", "Printer on floor 3 jams", "Open tray B and remove the paper"))
    await store.save_answer(answer("3", "Laptop fan noise", "the vpn client is not related"))
    assert await search(store, "my VPN connection drops again") == ["1", "3"]
    assert await search(store, "printers jamming") == ["2"]  # both engines stem: printers/printer, jamming/jams
    found = await store.search_answers(terms("vpn drops"), Scope(T, C, (P,)), limit=5)
    assert found[0].score > found[1].score > 0
    again = await store.get_answer(TaskGid("1"))
    assert again is not None and again.answered_by == ("Ana",) and again.project_gids == (P,)
    assert again.resolved_at == NOW - timedelta(days=1)


async def test_an_open_or_reopened_task_is_not_found_and_an_edit_replaces_its_words(store: SqlStore) -> None:
    await store.save_answer(answer("1", "VPN drops every hour", resolved_at=None))
    assert await search(store, "vpn") == []
    await store.save_answer(answer("1", "VPN drops every hour"))
    assert await search(store, "vpn") == ["1"]
    await store.save_answer(answer("1", "Keyboard sticks"))
    assert await search(store, "vpn") == []
    assert await search(store, "keyboard") == ["1"]
    await store.save_answer(answer("1", "Keyboard sticks", resolved_at=None))
    assert await search(store, "keyboard") == []


async def test_the_scope_keeps_other_projects_teams_and_private_channels_out(store: SqlStore) -> None:
    await store.save_answer(answer("1", "vpn here"))
    await store.save_answer(answer("2", "vpn in another project", project_gids=(ProjectGid("200"),)))
    await store.save_answer(answer("3", "vpn in a combined project", project_gids=(ProjectGid("300"), P)))
    await store.save_answer(answer("4", "vpn of another team", team_id=TeamId("T2")))
    await store.save_answer(answer("5", "vpn said in private", channel_id=ChannelId("G9"), private=True))
    await store.save_answer(answer("6", "vpn said in public elsewhere", channel_id=ChannelId("C7")))
    assert sorted(await search(store, "vpn")) == ["1", "3", "6"]
    assert sorted(await search(store, "vpn", Scope(T, ChannelId("G9"), (P,)))) == ["1", "3", "5", "6"]
    assert sorted(await search(store, "vpn", Scope(T, C, (P, ProjectGid("200"))))) == ["1", "2", "3", "6"]


async def test_hostile_words_are_only_words(store: SqlStore) -> None:
    await store.save_answer(answer("1", 'quote " and NEAR( star* -minus OR AND', "x"))
    assert await search(store, "quote\" NEAR( * -minus OR AND ) ' ; DROP TABLE answers") == ["1"]
    assert await store.search_answers((), Scope(T, C, (P,)), limit=3) == []


async def test_the_index_row_follows_its_answer(store: SqlStore) -> None:
    for gid in ("1", "2"):
        await store.save_answer(answer(gid, "vpn"))
    await store.save_answer(answer("1", "vpn", resolved_at=None))
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM answers_search"))).scalar_one() == 1


async def test_deflections_are_recorded_once_and_decided_once(store: SqlStore) -> None:
    d = Deflection(
        task_gid=TaskGid("9"),
        team_id=T,
        channel_id=C,
        thread_ts="1.1",
        asker=SlackUserId("U1"),
        suggested=(TaskGid("1"), TaskGid("2")),
        asked_at=NOW,
        suggested_at=NOW + timedelta(seconds=2),
    )
    assert await store.add_deflection(d)
    assert not await store.add_deflection(d)
    await store.set_deflection_message(d.task_gid, "1.2")
    assert await store.decide_deflection(d.task_gid, Outcome.ACCEPTED, at=NOW + timedelta(minutes=1), by=d.asker)
    assert not await store.decide_deflection(d.task_gid, Outcome.REJECTED, at=NOW, by=d.asker)
    got = await store.get_deflection(d.task_gid)
    assert got == replace(
        d, message_ts="1.2", outcome=Outcome.ACCEPTED, decided_at=NOW + timedelta(minutes=1), decided_by=d.asker
    )
    assert await store.deflections_since(NOW) == [got]
    assert await store.deflections_since(NOW, team_id=TeamId("T2")) == []


async def test_a_batch_keeps_the_last_word_on_each_task(store: SqlStore) -> None:
    await store.save_answers(
        [answer("1", "vpn old"), answer("2", "printer"), answer("1", "vpn new", project_gids=(P, ProjectGid("300")))]
    )
    kept = await store.get_answer(TaskGid("1"))
    assert kept is not None and kept.title == "vpn new" and kept.project_gids == (P, ProjectGid("300"))
    assert await search(store, "printer") == ["2"] and await search(store, "old") == []


async def test_from_a_thousand_tasks_words_most_tasks_have_are_left_out_of_the_ranking(store: SqlStore) -> None:
    await store.save_answers([answer(str(i), f"printer jam number {i}", "reboot it") for i in range(1, 1001)])
    await store.save_answers([answer("5000", "printer toner is empty", "order toner from the portal")])
    await analyze(store)
    async with store.engine.connect() as conn:
        # Stemmed by the engine (printers -> printer): still recognised as common.
        assert await store._rarity.rare(conn, ["printers", "toner", "reboot"]) == ["toner"]
        assert len(await store._rarity.rare(conn, ["printer", "reboot", "jam"])) == 1  # all common: the rarest
    assert (await search(store, "printers need toner"))[0] == "5000"


async def analyze(store: SqlStore) -> None:
    """PostgreSQL's counts of words are its planner's statistics: what autovacuum's ANALYZE keeps in a running
    database."""
    if store.engine.dialect.name == "postgresql":
        async with store.engine.begin() as conn:
            await conn.execute(text("ANALYZE answers_search"))


async def test_over_many_tasks_only_rows_with_a_rare_word_are_ranked_and_a_small_scope_is_found_first(
    store: SqlStore,
) -> None:
    big, small = ProjectGid("100"), ProjectGid("200")
    await store.save_answers(
        [answer(str(i), f"printer jam number {i % 7}", "reboot the printer", project_gids=(big,)) for i in range(3000)]
    )
    await store.save_answers(
        [
            answer("5000", "printer toner is empty", "order toner from the portal", project_gids=(big,)),
            answer("6000", "printer jam again", "reboot the printer twice", project_gids=(small,)),
        ]
    )
    await analyze(store)
    # Over 3,000 tasks: the rows with "toner" are the candidates; "printer" still ranks them.
    assert (await search(store, "printers need toner"))[0] == "5000"
    # A question of common words only: candidates are the rows with all its rarest words.
    assert len(await search(store, "printer jam number reboot")) == 5
    # A project of one task among 3,000: its row is found first, then ranked by every word.
    assert await search(store, "printer jam", Scope(T, C, (small,))) == ["6000"]


async def test_a_match_in_scope_is_found_behind_many_better_ones_out_of_it(store: SqlStore) -> None:
    elsewhere = ProjectGid("200")
    await store.save_answers(
        [answer(str(i), "vpn vpn vpn drops", "vpn", project_gids=(elsewhere,)) for i in range(1, 151)]
    )
    await store.save_answer(answer("999", "a note that mentions a vpn once among many other words here"))
    assert await search(store, "vpn drops") == ["999"]
