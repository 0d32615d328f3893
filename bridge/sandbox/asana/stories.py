"""Stories: comments people write and the system stories Asana records for every change."""

from __future__ import annotations

from typing import Any

from bridge.sandbox.asana import richtext
from bridge.sandbox.asana.errors import bad_request, forbidden
from bridge.sandbox.asana.model import Compact, Story, Task, User
from bridge.sandbox.asana.world import World, story_compact

_STICKERS = frozenset(
    {
        "green_checkmark",
        "people_dancing",
        "dancing_unicorn",
        "heart",
        "party_popper",
        "people_waving_flags",
        "splashing_narwhal",
        "trophy",
        "yeti_riding_unicorn",
        "celebrating_people",
        "determined_climbers",
        "phoenix_spreading_love",
    }
)


def add_comment(world: World, actor: User, task: Task, data: dict[str, Any]) -> Story:
    """POST /tasks/{gid}/stories: `text` xor `html_text`; only comments can be created."""
    text, html = data.get("text"), data.get("html_text")
    if text is not None and html is not None:
        raise bad_request("You may only specify one of text or html_text")
    if html is not None:
        plain = richtext.validate(html, "html_text", task=False)
    elif isinstance(text, str):
        plain, html = text, richtext.from_plain(text)
    elif text is None:
        raise bad_request("text: Missing input")
    else:
        raise bad_request("text: Must be a string")
    pinned = data.get("is_pinned", False)
    if not isinstance(pinned, bool):
        raise bad_request("is_pinned: Must be a boolean")
    sticker = data.get("sticker_name")
    if sticker is not None and sticker not in _STICKERS:
        raise bad_request(f"sticker_name: Unknown sticker: {sticker}")
    story = Story(
        gid=world.store.new_gid(),
        task=task.gid,
        created_by=actor.gid,
        created_at=world.clock.now(),
        resource_subtype="comment_added",
        text=plain,
        html_text=str(html),
        kind="comment",
        is_pinned=pinned,
        sticker_name=sticker,
    )
    return _record(world, actor, task, story)


def edit_comment(world: World, actor: User, story: Story, data: dict[str, Any]) -> Story:
    """PUT /stories/{gid}: only comments, only by their author; `text` xor `html_text`."""
    _own_comment(actor, story)
    text, html = data.get("text"), data.get("html_text")
    if text is not None and html is not None:
        raise bad_request("You may only specify one of text or html_text")
    if html is not None:
        story.text, story.html_text = richtext.validate(html, "html_text", task=False), str(html)
    elif isinstance(text, str):
        story.text, story.html_text = text, richtext.from_plain(text)
    elif text is not None:
        raise bad_request("text: Must be a string")
    if "is_pinned" in data:
        if not isinstance(data["is_pinned"], bool):
            raise bad_request("is_pinned: Must be a boolean")
        story.is_pinned = data["is_pinned"]
    task = world.store.tasks[story.task]
    world.touch(task)
    world.emit(
        actor,
        "changed",
        story_compact(story),
        world.store.event_targets(task),
        change={"field": "text", "action": "changed"},
    )
    return story


def remove_comment(world: World, actor: User, story: Story) -> None:
    """DELETE /stories/{gid}: only comments, only by their author."""
    _own_comment(actor, story)
    del world.store.stories[story.gid]
    task = world.store.tasks[story.task]
    world.touch(task)
    world.emit(
        actor,
        "removed",
        story_compact(story),
        world.store.event_targets(task),
        parent=Compact(task.gid, "task", task.resource_subtype),
    )


def _own_comment(actor: User, story: Story) -> None:
    if story.kind != "comment":
        raise bad_request("Only comments can be edited or deleted")
    if story.created_by != actor.gid:
        raise forbidden("You can only edit or delete your own comments")


def add_system_story(
    world: World, actor: User, task: Task, subtype: str, text: str, extra: dict[str, Any] | None = None
) -> Story:
    """A story such as assigned, section_changed or marked_complete, as Asana writes for each change."""
    story = Story(
        gid=world.store.new_gid(),
        task=task.gid,
        created_by=actor.gid,
        created_at=world.clock.now(),
        resource_subtype=subtype,
        text=text,
        html_text=richtext.from_plain(text),
        kind="system",
        extra=extra or {},
    )
    return _record(world, actor, task, story)


def _record(world: World, actor: User, task: Task, story: Story) -> Story:
    world.store.stories[story.gid] = story
    world.touch(task)
    # A story bubbles up like its task: a comment on a subtask reaches the parent's project webhook.
    world.emit(
        actor,
        "added",
        story_compact(story),
        world.store.event_targets(task),
        parent=Compact(task.gid, "task", task.resource_subtype),
    )
    return story


def stories_of(world: World, task: Task) -> list[str]:
    return [s.gid for s in world.store.stories.values() if s.task == task.gid]
