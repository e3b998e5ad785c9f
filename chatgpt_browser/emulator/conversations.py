"""Conversations as message trees, like the real backend keeps them.

Each conversation maps message ids to nodes (parent, children). A new chat starts from
the client's `parent_message_id` as an empty root; continuing a chat adds the user
message under the given parent; a `variant` re-asks an existing user message and adds
another assistant child to it.
"""

from __future__ import annotations

import dataclasses
import uuid

from .clock import Clock
from .jsontypes import JSONObject


@dataclasses.dataclass
class Node:
    id: str
    parent: str | None
    role: str
    text: str
    create_time: float
    children: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> JSONObject:
        message = None
        if self.role != "root":
            message = {
                "id": self.id,
                "author": {"role": self.role},
                "role": self.role,
                "create_time": self.create_time,
                "content": {"content_type": "text", "parts": [self.text]},
            }
        return {"id": self.id, "message": message, "parent": self.parent, "children": list(self.children)}


@dataclasses.dataclass
class Conversation:
    id: str
    email: str
    create_time: float
    title: str = "New chat"
    current_node: str = ""
    mapping: dict[str, Node] = dataclasses.field(default_factory=dict)
    visible: bool = True

    def to_dict(self) -> JSONObject:
        return {
            "title": self.title,
            "create_time": self.create_time,
            "mapping": {key: node.to_dict() for key, node in self.mapping.items()},
            "moderation_results": [],
            "current_node": self.current_node,
        }

    def summary(self) -> JSONObject:
        return {"id": self.id, "title": self.title, "create_time": self.create_time}


class ConversationError(Exception):
    """A request that names a message the conversation does not have."""


class ConversationStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._conversations: dict[str, Conversation] = {}

    def __len__(self) -> int:
        return len(self._conversations)

    def get(self, conversation_id: str, email: str) -> Conversation | None:
        conversation = self._conversations.get(conversation_id)
        if conversation is None or conversation.email.lower() != email.lower() or not conversation.visible:
            return None
        return conversation

    def list_for(self, email: str) -> list[Conversation]:
        items = [c for c in self._conversations.values() if c.email.lower() == email.lower() and c.visible]
        return sorted(items, key=lambda c: c.create_time, reverse=True)

    def create(self, email: str, root_id: str) -> Conversation:
        now = self._clock.now()
        conversation = Conversation(str(uuid.uuid4()), email, now, current_node=root_id)
        conversation.mapping[root_id] = Node(root_id, None, "root", "", now)
        self._conversations[conversation.id] = conversation
        return conversation

    def add_user_message(self, conversation: Conversation, message_id: str, text: str, parent_id: str) -> int:
        """Add (or, for a variant, find) the user message; returns the variant number."""
        existing = conversation.mapping.get(message_id)
        if existing is not None:
            if existing.role != "user":
                raise ConversationError("message id already used")
            return sum(1 for child in existing.children if conversation.mapping[child].role == "assistant")
        parent = conversation.mapping.get(parent_id)
        if parent is None:
            raise ConversationError("parent message not found")
        node = Node(message_id, parent_id, "user", text, self._clock.now())
        conversation.mapping[message_id] = node
        parent.children.append(message_id)
        return 0

    def variant_of(self, conversation: Conversation, parent_id: str, text: str) -> tuple[str, int] | None:
        """For `variant` sent with a new message id: an existing user child of the parent
        with the same text, re-asked (its id and the variant number)."""
        parent = conversation.mapping.get(parent_id)
        if parent is None:
            return None
        for child_id in parent.children:
            child = conversation.mapping[child_id]
            if child.role == "user" and child.text == text:
                answers = sum(1 for c in child.children if conversation.mapping[c].role == "assistant")
                return child.id, answers
        return None

    def add_assistant_message(self, conversation: Conversation, user_id: str, message_id: str) -> Node:
        node = Node(message_id, user_id, "assistant", "", self._clock.now())
        conversation.mapping[message_id] = node
        conversation.mapping[user_id].children.append(message_id)
        conversation.current_node = message_id
        return node
