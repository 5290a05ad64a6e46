"""The real discord.py client against SimCord's in-process Discord (REST + gateway model).

The LLM is scripted here (these tests are about the Discord front end); the index is real.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import discord
import pytest
import simcord

from bot.answering.config import AnswerConfig
from bot.answering.pipeline import Answer, Answerer, Citation
from bot.discord.ask import BUSY
from bot.discord.client import ArticleBot
from bot.discord.config import DiscordConfig
from bot.discord.feeds import FeedCommands
from bot.discord.format import format_answer
from bot.discord.passages import passage_page
from bot.discord.services import ScopeError, Services
from bot.feedback.store import FeedbackStore
from bot.feeds.config import FeedsConfig
from bot.feeds.store import FeedStore
from index.clean import clean_text
from index.ingest_config import IngestConfig
from index.models import Document

from .conftest import Route
from .fakes import ScriptedLLM

pytestmark = [pytest.mark.slow, pytest.mark.simcord(settle_timeout=30)]

PODIL = "A building in the Podil neighborhood of Kyiv was hit."
BUDGET = b"The city council approved a new budget for public libraries on Tuesday, adding two branches."


@pytest.fixture
def llm():
    return ScriptedLLM()


@pytest.fixture
def services(library, sample_text, llm, tmp_path):
    library.add(Document(text=clean_text(sample_text)), article_id="sample", title="Putin rally")
    return Services(
        library,
        Answerer(library, llm, AnswerConfig(reask=False)),  # one scripted reply an answer
        IngestConfig(allowed_hosts=("127.0.0.1",)),
        DiscordConfig(cooldown_s=30, moderator_role="Editors", max_pending_questions=2, shard_count=2),
        FeedbackStore(tmp_path / "feedback.sqlite3"),
        FeedStore(tmp_path / "feeds.sqlite3"),
        FeedsConfig(),
    )


@pytest.fixture
def simcord_bot(services):
    return ArticleBot(services)


@pytest.fixture
def env(simcord_env):
    return simcord_env


@pytest.fixture
def guild(env):
    return env.create_guild("News Club")


@pytest.fixture
def channel(guild):
    return guild.create_text_channel("general")


@pytest.fixture
def alice(env, guild):
    return guild.add_member(env.create_user("alice"))


@pytest.fixture
def mod(env, guild):
    """A member with the configured moderator role, which the server admin let use /article."""
    editors = guild.create_role("Editors")
    for name, kind in (("article", 1), ("feed", 1), ("Index this link", 3)):
        command = env.backend.find_command(name, guild.id, type=kind)
        guild.set_command_permissions(int(command["id"]), {editors: True})
    return guild.add_member(env.create_user("maria"), roles=[editors])


def bot_messages(result) -> list[str]:
    return [m.content for m in ([result.response] if result.response else []) + result.followups]


def webhook_posts(env) -> list:
    return [r for r in env.http_requests if r.method in ("POST", "PATCH") and "/webhooks/" in r.path]


async def test_ask_defers_then_answers_with_sources(env, channel, alice, llm):
    llm.replies.append(PODIL)
    result = await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")
    callbacks = [r.json["type"] for r in env.http_requests if r.path.endswith("/callback")]
    assert callbacks == [5]  # deferred ("thinking…") before the slow work
    [content] = bot_messages(result)
    assert content.startswith("A building in the Podil neighborhood of Kyiv was hit [1].")
    assert "**Sources**\n[1] **Putin rally**, passage 8\n> " in content and "Podil" in content.split("**Sources**")[1]
    assert all(r.json["allowed_mentions"] == {"parse": []} for r in webhook_posts(env))


async def test_long_answer_is_split_without_breaking_citations(env, channel, alice, library, services, monkeypatch):
    # Answers are short; a long reply still goes out whole: many sources, each a long passage.
    passages = library.passages_of(["sample"])
    citations = [
        Citation(i, "sample", "Putin rally", p.n, p.text, None, p.text) for i, p in enumerate(passages, start=1)
    ]
    text = " ".join(f"Sentence {i} of the answer [{i}]." for i in range(1, len(citations) + 1))

    async def long_answer(question, article_ids=None, history=(), on_sentence=None):
        return Answer(question, text, False, "llm", citations)

    monkeypatch.setattr(services.answerer, "answer", long_answer)
    result = await alice.slash(channel, "ask", question="Summarise everything")
    messages = bot_messages(result)
    assert len(messages) >= 2 and all(len(m) <= 2000 for m in messages)
    for m in messages:
        assert m.count("[") == m.count("]") + m.count("\\]") - m.count("\\[")  # no [n] cut in half
        assert m.count("**") % 2 == 0
    assert "".join(messages).count("> ") == len(citations)


async def test_refusal_offers_related_reading(channel, alice, llm):
    llm.replies.append("Russia won the 2018 FIFA World Cup.")
    [content] = bot_messages(await alice.slash(channel, "ask", question="Who won the 2018 World Cup?"))
    assert content.startswith("The article doesn't say.") and "**Related reading**" in content
    assert "World Cup" not in content.split("\n")[0][len("The article doesn't say.") :]


async def test_cooldown_and_question_cap(env, channel, alice, llm):
    llm.replies.append(PODIL)
    await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")
    again = await alice.slash(channel, "ask", question="And when?")
    assert again.ephemeral and again.response.content.startswith("Please wait")
    with pytest.raises(simcord.backend.errors.OptionError, match="at most 1000 characters"):
        await alice.slash(channel, "ask", question="why?" * 1000)  # Discord itself refuses it
    await alice.send(channel, f"<@{env.bot.user.id}> " + "why?" * 300)  # a mention is capped by our check
    assert "1,000 (answer.max_question_chars)" in channel.last_message.content


async def test_everyone_mention_pings_no_one(env, channel, alice, llm):
    llm.replies.append("@everyone: a building in the Podil neighborhood of Kyiv was hit.")
    result = await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")
    assert "@\u200beveryone" in result.response.content  # shown as text (escaped), never as a ping
    message = result.response.message
    assert not message.mention_everyone and message.role_mentions == [] and message.mentions == []
    assert all(r.json["allowed_mentions"] == {"parse": []} for r in webhook_posts(env))


async def test_admin_with_manage_server_can_manage(env, guild, channel):
    admin_role = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(env.create_user("ada"), roles=[admin_role])
    result = await admin.slash(channel, "article add", text=BUDGET.decode(), id="budget")
    assert result.response.content.startswith("Added `budget`")


async def test_moderator_adds_lists_uses_and_removes(env, guild, channel, mod, alice):
    added = await mod.slash(channel, "article add", file=("budget.txt", BUDGET), title="Library budget", id="budget")
    assert added.ephemeral and added.response.content.startswith("Added `budget` — Library budget")
    listing = (await mod.slash(channel, "article list")).response.content
    assert "`budget`" in listing and "`sample`" in listing and "(global)" in listing
    used = await mod.slash(channel, "article use", id="budget")
    assert "now use `budget`" in used.response.content
    removed = await mod.slash(channel, "article remove", id="budget")
    assert removed.response.content.startswith("Removed `budget`")
    refused = await mod.slash(channel, "article remove", id="sample")
    assert "no article `sample` added in this server" in refused.response.content
    bad = await mod.slash(channel, "article add", file=("image.png", b"\x89PNG\r\n"))
    assert "not a .txt" in bad.response.content and "Nothing was changed" in bad.response.content


async def test_member_refused_by_both_gates(env, guild, channel, alice, services):
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await alice.slash(channel, "article add", text="Some text about a thing.")
    # A server admin opens the command group to everyone: the in-code check still refuses.
    command = env.backend.find_command("article", guild.id, type=1)
    guild.set_command_permissions(int(command["id"]), {guild.default_role: True})
    result = await alice.slash(channel, "article add", text="Some text about the budget vote in the council.")
    assert result.ephemeral and "only moderators" in result.response.content
    assert [type(e).__name__ for e in env.errors] == ["NotModerator"]  # reported to the tree, handled
    assert [a.id for a in services.library.list_articles()] == ["sample"]


async def test_guild_isolation(env, guild, channel, mod, llm, services):
    await mod.slash(channel, "article add", text=BUDGET.decode(), id="budget")
    other = env.create_guild("Elsewhere")
    other_channel = other.create_text_channel("general")
    bob = other.add_member(env.create_user("bob"))
    refused = await bob.slash(other_channel, "ask", question="What did the council approve?", article="budget")
    assert refused.ephemeral and "no article `budget` in this server" in refused.response.content
    llm.replies.append("The council approved a budget.")
    await bob.slash(other_channel, "ask", question="What did the council approve?")
    prompt = llm.requests[-1][0].content  # the system message holds the article
    assert "librar" not in prompt.lower() and "council" not in prompt.lower()  # the other server's text
    assert "Podil" in prompt  # only the global sample is in scope


async def test_mention_thread_and_follow_up(env, channel, alice, llm):
    me = env.bot.user
    llm.replies.append(PODIL)
    await alice.send(channel, f"<@{me.id}> Which Kyiv neighbourhood was hit?")
    [thread] = channel.threads
    first = thread.history()
    assert any("Podil" in m.content and "[1]" in m.content for m in first)
    llm.replies += [
        "How many people were wounded in the Podil shelling?",
        "Kyiv Mayor Vitali Klitschko said 19 were wounded in the shelling.",
    ]
    env.bot.services.cooldown = None
    await alice.send(thread, "How many were wounded?")
    assert "Conversation:" in llm.requests[-2][0].content  # the follow-up was rewritten with the thread's history
    assert any("19 were wounded" in m.content for m in thread.history())


async def test_other_bots_are_ignored(env, guild, channel, llm):
    robot = guild.add_member(env.create_user("robot", bot=True))
    await robot.send(channel, f"<@{env.bot.user.id}> Which Kyiv neighbourhood was hit?")
    assert llm.requests == [] and channel.threads == []


async def test_expired_interaction_is_logged_not_raised(env, channel, alice, llm, caplog):
    env.inject_error("POST", "/interactions/*/callback", status=404, code=10062, message="Unknown interaction")
    llm.replies.append(PODIL)
    result = await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")
    assert not result.acknowledged and result.followups == []
    assert "expired" in caplog.text and env.errors == []


async def test_no_thread_permission_answers_in_the_channel(env, channel, alice, llm):
    env.inject_error("POST", "/channels/*/messages/*/threads", status=403, code=50013, message="Missing Permissions")
    llm.replies.append(PODIL)
    await alice.send(channel, f"<@{env.bot.user.id}> Which Kyiv neighbourhood was hit?")
    assert channel.threads == []
    assert "Podil" in channel.last_message.content and channel.last_message.author.id == env.bot.user.id


async def test_answer_failure_is_a_polite_message(channel, alice, services, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(services.answerer, "answer", broken)
    result = await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")
    assert (
        result.response.content.startswith("Sorry, something went wrong") and "exploded" not in result.response.content
    )


async def test_questions_over_the_in_flight_cap_get_busy(env, guild, channel, services, llm):
    # SimCord handles one interaction at a time, so "two questions being answered" is set up
    # directly on the shared counter the /ask handler consults.
    services.in_flight.count = services.in_flight.cap
    busy = await guild.add_member(env.create_user("bea")).slash(
        channel, "ask", question="Which Kyiv neighbourhood was hit?"
    )
    assert bot_messages(busy) == [BUSY] and llm.requests == []
    assert services.in_flight.count == services.in_flight.cap  # a refused question takes no slot
    services.in_flight.count = services.in_flight.cap - 1
    llm.replies.append(PODIL)
    answered = await guild.add_member(env.create_user("cy")).slash(
        channel, "ask", question="Which Kyiv neighbourhood was hit?"
    )
    assert bot_messages(answered)[0].startswith("A building in the Podil neighborhood of Kyiv was hit [1].")
    assert services.in_flight.count == services.in_flight.cap - 1  # its slot was given back


async def test_add_by_url_then_reindex_fetches_again(env, channel, mod, services, site):
    site.routes["/story"] = Route(
        body=b"<html><head><title>Flood</title></head><body><article><p>"
        + b"The river rose two metres overnight and flooded the old town. " * 8
        + b"</p></article></body></html>"
    )
    added = await mod.slash(channel, "article add", url=site.url("/story"), id="flood")
    assert added.response.content.startswith("Added `flood` — Flood") and site.url("/story") in added.response.content
    assert "river rose" in services.library.article_text("flood")
    site.routes["/story"] = Route(
        body=b"<html><head><title>Flood</title></head><body><article><p>"
        + b"Water is falling again and residents are returning home to clean up. " * 8
        + b"</p></article></body></html>"
    )
    reindexed = await mod.slash(channel, "article reindex", id="flood")
    assert "Re-indexed 1 article(s): `flood`" in reindexed.response.content
    assert "residents are returning" in services.library.article_text("flood")
    site.routes.clear()  # the page is gone: the article stays as it was, and the moderator is told
    failed = await mod.slash(channel, "article reindex")
    assert "Could not re-index" in failed.response.content
    assert "residents are returning" in services.library.article_text("flood")


async def test_article_autocomplete_offers_this_servers_articles_only(env, guild, channel, mod, alice):
    await mod.slash(channel, "article add", text=BUDGET.decode(), id="budget", title="Library budget")
    other = env.create_guild("Elsewhere")
    bob = other.add_member(env.create_user("bob"))
    choices = await alice.autocomplete(channel, "ask", "article", "bud", question="What?")
    assert [c["value"] for c in choices] == ["budget"]
    assert [c["value"] for c in await alice.autocomplete(channel, "ask", "article", "", question="What?")] == [
        "sample",
        "budget",
    ]
    elsewhere = await bob.autocomplete(other.create_text_channel("general"), "ask", "article", "", question="What?")
    assert [c["value"] for c in elsewhere] == ["sample"]


async def test_a_rate_limited_answer_is_sent_again_not_lost(env, channel, alice, llm):
    """Discord answers 429 to the first edit that puts the answer in place: it still arrives, once."""
    llm.replies.append(PODIL)
    env.inject_error("PATCH", "/webhooks/*", status=429, message="You are being rate limited.", times=1)
    result = await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")
    [content] = bot_messages(result)
    assert content.startswith("A building in the Podil neighborhood of Kyiv was hit [1].") and "**Sources**" in content
    assert set(vote_buttons(result.response)) == {"👍", "👎"}
    assert sum(r.method == "PATCH" for r in webhook_posts(env)) == 2  # the refused edit, then the same again


def answer_in_two_parts(services, monkeypatch, pause_s: float) -> list[Answer]:
    """The answerer settles two checked sentences `pause_s` apart (real answers are one sentence:
    this drives the front end's streaming). Returns the list the final Answer is put in."""
    [passage] = [p for p in services.library.passages_of(["sample"]) if "Podil" in p.text]
    citation = Citation(1, "sample", "Putin rally", passage.n, passage.text, None, PODIL)
    first, whole = f"{PODIL[:-1]} [1].", f"{PODIL[:-1]} [1]. Nineteen people were wounded [1]."
    answers: list[Answer] = []

    async def in_parts(question, article_ids=None, history=(), on_sentence=None):
        on_sentence(first)
        await asyncio.sleep(pause_s)
        on_sentence(whole)
        answers.append(Answer(question, whole, False, "llm", [citation]))
        return answers[-1]

    monkeypatch.setattr(services.answerer, "answer", in_parts)
    return answers


async def test_an_answer_streams_into_its_reply_and_ends_as_the_whole_answer(
    env, channel, alice, services, monkeypatch
):
    answers = answer_in_two_parts(services, monkeypatch, pause_s=1.5)
    result = await alice.slash(channel, "ask", question="What happened in Kyiv?")
    edits = [r.json["content"] for r in webhook_posts(env) if r.method == "PATCH"]
    # First sentence alone, then the whole answer with its sources: each shown text grows the last.
    assert edits == [f"{PODIL[:-1]} [1].", format_answer(answers[0])]
    assert result.followups == [] and result.response.content == format_answer(answers[0])
    assert set(vote_buttons(result.response)) == {"👍", "👎"}


async def test_parts_settled_together_go_out_in_one_edit(env, channel, alice, services, monkeypatch):
    answers = answer_in_two_parts(services, monkeypatch, pause_s=0.0)
    await alice.slash(channel, "ask", question="What happened in Kyiv?")
    assert [r.json["content"] for r in webhook_posts(env) if r.method == "PATCH"] == [format_answer(answers[0])]


async def test_a_thread_answer_streams_into_one_message(env, channel, alice, services, monkeypatch):
    answers = answer_in_two_parts(services, monkeypatch, pause_s=1.5)
    await alice.send(channel, f"<@{env.bot.user.id}> What happened in Kyiv?")
    [thread] = channel.threads
    [reply] = [m for m in thread.history() if m.author.id == env.bot.user.id]
    assert reply.content == format_answer(answers[0]) and set(vote_buttons(reply)) == {"👍", "👎"}
    sent = [r.json["content"] for r in env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    edited = [r.json["content"] for r in env.http_requests if r.method == "PATCH" and "/messages/" in r.path]
    assert sent[-1] == f"{PODIL[:-1]} [1]." and edited == [format_answer(answers[0])]


async def test_a_rate_limited_thread_answer_is_sent_again(env, channel, alice, llm):
    me = env.bot.user
    llm.replies.append(PODIL)
    env.inject_error("POST", "/channels/*/messages", status=429, message="You are being rate limited.", times=1)
    await alice.send(channel, f"<@{me.id}> Which Kyiv neighbourhood was hit?")
    [thread] = channel.threads
    assert sum("Podil" in m.content and "[1]" in m.content for m in thread.history()) == 1


async def test_a_title_is_shown_as_text_and_cannot_claim_a_global_id(env, guild, channel, mod, services):
    """A moderator's title with markdown and a fake citation is escaped; `sample` taken by one
    server's article (the global one was removed) is that server's own, never global."""
    added = await mod.slash(channel, "article add", text=BUDGET.decode(), title="**Bold** [1] `x`", id="budget")
    assert "\\*\\*Bold\\*\\* \\[1\\]" in added.response.content
    services.library.remove("sample")
    await mod.slash(channel, "article add", text="A different text about a town fair and its pies.", id="sample")
    other = env.create_guild("Elsewhere")
    bob = other.add_member(env.create_user("bob"))
    refused = await bob.slash(other.create_text_channel("general"), "ask", question="What about the fair?")
    assert refused.response.content.startswith("No articles have been added in this server")


def vote_buttons(message) -> dict[str, str]:
    """emoji → custom id of the buttons under a message (SimCord's raw payload or a discord.Message)."""
    if isinstance(message, discord.Message):
        return {b.emoji.name: b.custom_id for row in message.components for b in row.children if b.emoji}
    return {b["emoji"]["name"]: b["custom_id"] for row in message.components for b in row["components"]}


async def test_votes_are_recorded_changeable_and_survive_a_restart(env, channel, alice, mod, llm, services):
    llm.replies.append(PODIL)
    message = (await alice.slash(channel, "ask", question="Which Kyiv neighbourhood was hit?")).response
    buttons = vote_buttons(message)
    assert set(buttons) == {"👍", "👎"}
    thanks = await alice.click(message, custom_id=buttons["👍"])
    assert thanks.ephemeral and "recorded" in thanks.response.content
    # A new bot process: no view kept in memory, the buttons still work (and the vote changes).
    await env.restart_bot(ArticleBot(services))
    changed = await alice.click(message, custom_id=buttons["👎"])
    assert changed.ephemeral and "👎 is recorded" in changed.response.content
    await mod.click(message, custom_id=buttons["👎"])
    [shown] = services.feedback.answers()
    assert (shown.up, shown.down) == (0, 2) and shown.question == "Which Kyiv neighbourhood was hit?"
    assert shown.citations[0].article_id == "sample" and "Podil" in shown.citations[0].quote
    assert shown.guild_id == channel.guild.id
    listing = (await mod.slash(channel, "article list")).response.content
    assert "`sample`" in listing and "👍 0 👎 2" in listing


async def test_a_thread_answer_carries_vote_buttons_and_a_busy_reply_none(env, channel, alice, llm):
    llm.replies.append(PODIL)
    await alice.send(channel, f"<@{env.bot.user.id}> Which Kyiv neighbourhood was hit?")
    [thread] = channel.threads
    answer = [m for m in thread.history() if "Podil" in m.content][-1]
    assert set(vote_buttons(answer)) == {"👍", "👎"}
    again = await alice.slash(channel, "ask", question="And when?")  # refused by the cooldown
    assert again.response.components == []


async def test_a_moderator_subscribes_a_feed_whose_new_items_are_indexed_and_announced(
    env, guild, channel, mod, alice, services, site, llm
):
    site.routes["/budget"] = Route(
        body=b"<html><head><title>Budget passes</title></head><body><article><p>"
        + BUDGET
        + b"</p></article></body></html>"
    )
    site.routes["/feed"] = Route(
        content_type="application/rss+xml",
        body=(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>City news</title><item><title>Budget passes'
            f"</title><link>{site.url('/budget')}</link><pubDate>{formatdate(time.time())}</pubDate></item>"
            "</channel></rss>"
        ).encode(),
    )
    added = await mod.slash(channel, "feed add", url=site.url("/feed"), channel=channel)
    assert (
        added.ephemeral
        and added.response.content.startswith("Added feed `1`")
        and "(1 item now)" in added.response.content
    )
    refused = await mod.slash(channel, "feed add", url=site.url("/budget"))
    assert "not an RSS or Atom feed" in refused.response.content and "Nothing was changed" in refused.response.content
    cog = next(c for c in env.bot.cogs.values() if isinstance(c, FeedCommands))
    [result] = await cog.poll_due()
    assert [a.title for a in result.indexed] == ["Budget passes"] and result.indexed[0].guild_id == guild.id
    [announcement] = [m for m in channel.history() if m.content.startswith("Indexed: **Budget passes**")]
    # A member opens a thread on the announcement: questions there are answered from that article.
    opened = await alice.context_menu(channel, "Ask about this article", announcement)
    [thread] = channel.threads
    assert (
        opened.ephemeral
        and opened.response.content == f"Ask in <#{thread.id}>: questions there are answered from `budget-passes`."
    )
    llm.replies.append("The council approved a new budget for public libraries.")
    await alice.send(thread, "What did the council approve?")
    assert any("libraries [1]" in m.content for m in thread.history())
    env.bot.services.cooldown = None
    asked = len(llm.requests)
    llm.replies.append(PODIL)
    await alice.send(thread, "Which Kyiv neighbourhood was hit?")  # the sample article's, out of this scope
    assert not any("Podil" in m.content for request in llm.requests[asked:] for m in request)
    assert not any("Podil" in m.content for m in thread.history())
    copied = await alice.send(channel, announcement.content)  # a member's copy is not the bot's announcement
    assert (
        "my “Indexed:” messages"
        in (await alice.context_menu(channel, "Ask about this article", copied)).response.content
    )
    assert await cog.poll_due() == []  # not due again for poll_interval_s
    listing = (await mod.slash(channel, "feed list")).response.content
    assert listing.startswith("`1` <http://127.0.0.1") and f"<#{channel.id}>" in listing
    # Members: hidden by default, and refused in code when an admin opens the group.
    command = env.backend.find_command("feed", guild.id, type=1)
    guild.set_command_permissions(int(command["id"]), {guild.default_role: True})
    nope = await alice.slash(channel, "feed remove", id=1)
    assert nope.ephemeral and "only moderators" in nope.response.content and "manage feeds" in nope.response.content
    assert [type(e).__name__ for e in env.errors] == ["NotModerator"]  # reported to the tree, handled
    other = env.create_guild("Elsewhere")
    editors = other.create_role("Editors")
    other.set_command_permissions(int(env.backend.find_command("feed", other.id, type=1)["id"]), {editors: True})
    stranger = other.add_member(env.create_user("bob"), roles=[editors])
    gone = await stranger.slash(other.create_text_channel("general"), "feed remove", id=1)
    assert "no feed 1 here" in gone.response.content
    removed = await mod.slash(channel, "feed remove", id=1)
    assert removed.response.content.startswith("Removed feed `1`")
    assert [a.title for a in services.library.articles_for_guild(guild.id)] == ["Budget passes"]  # articles stay


async def test_article_show_pages_through_passages_with_buttons(env, guild, channel, mod, alice, services):
    count = len(services.library.passages_of(["sample"]))
    first = await mod.slash(channel, "article show", id="sample")
    assert first.ephemeral and first.response.content.startswith(
        f"`sample` — **Putin rally** · passage 1 of {count}\n> "
    )
    second = await mod.click(first.response, label="▶")
    assert f"passage 2 of {count}" in second.response.content
    back = await mod.click(second.response, label="◀")
    assert f"passage 1 of {count}" in back.response.content
    last = await mod.slash(channel, "article show", id="sample", passage=999)  # past the end: the last one
    assert f"passage {count} of {count}" in last.response.content
    missing = await mod.slash(channel, "article show", id="nope")
    assert "no article `nope` in this server" in missing.response.content
    # A button's id names the article: one another server cannot see shows nothing there.
    await mod.slash(channel, "article add", text=BUDGET.decode(), id="budget")
    with pytest.raises(ScopeError):
        passage_page(services, env.create_guild("Elsewhere").id, "budget", 1)


async def test_the_question_option_carries_the_configured_cap_and_every_option_a_description(env, guild, services):
    [option] = [o for o in env.backend.find_command("ask", guild.id, type=1)["options"] if o["name"] == "question"]
    assert option["max_length"] == services.answerer.config.max_question_chars
    # Every option of every command says what it is (Discord shows "…" otherwise).
    options = [o for scope in env.backend.commands.values() for c in scope.values() for o in c.get("options", [])]
    options += [o for group in list(options) for o in group.get("options", [])]  # subcommands' options
    assert options and all(o["description"] not in ("", "…") for o in options)


async def test_index_this_link_from_a_message_for_moderators_only(env, guild, channel, mod, alice, services, site):
    site.routes["/budget"] = Route(
        body=b"<html><head><title>Budget passes</title></head><body><article><p>"
        + BUDGET
        + b"</p></article></body></html>"
    )
    posted = await alice.send(channel, f"Worth a read: <{site.url('/budget')}> (from the council)")
    command = env.backend.find_command("Index this link", guild.id, type=3)
    guild.set_command_permissions(int(command["id"]), {guild.default_role: True})  # opened to all by an admin
    refused = await alice.context_menu(channel, "Index this link", posted)
    assert refused.ephemeral and "only moderators" in refused.response.content
    assert [a.id for a in services.library.articles_for_guild(guild.id)] == []
    added = await mod.context_menu(channel, "Index this link", posted)
    assert added.ephemeral and added.response.content.startswith("Added `budget-passes` — Budget passes")
    plain = await mod.send(channel, "no link here")
    nothing = await mod.context_menu(channel, "Index this link", plain)
    assert "no http(s) link" in nothing.response.content


def test_a_scope_error_reads_as_a_sentence_and_keeps_the_articles_case():
    assert ScopeError("there is no article `MyNews` in this server").sentence() == (
        "There is no article `MyNews` in this server."
    )
