"""Turn the file's own metadata (OME-XML, vendor dicts or XML) into a plain tree.

The metadata widget only draws this tree; building it here keeps the widget free of
logic and lets the same tree be tested without Qt.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

MAX_CHILDREN = 5000  # a vendor XML can hold 10⁵ entries; the tree shows the first ones


@dataclass
class TreeNode:
    """A labelled node with an optional value; ``children`` keep the file's order."""

    label: str
    value: str = ""
    children: list[TreeNode] = field(default_factory=list)

    def find(self, text: str) -> bool:
        """True when this node or a descendant mentions ``text`` (case-insensitive)."""
        needle = text.lower()
        if needle in self.label.lower() or needle in self.value.lower():
            return True
        return any(child.find(text) for child in self.children)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_tree(text: str, label: str) -> TreeNode:
    """Elements become nodes, attributes become leaves; text is the node's value."""
    try:
        root = ET.fromstring(text)  # noqa: S314  (metadata from the operator's own file)
    except ET.ParseError as err:
        return TreeNode(label, f"(XML not readable: {err})")

    def convert(element: ET.Element) -> TreeNode:
        node = TreeNode(_local(element.tag), (element.text or "").strip()[:500])
        for key, value in element.attrib.items():
            node.children.append(TreeNode(f"@{_local(key)}", value))
        for child in list(element)[:MAX_CHILDREN]:
            node.children.append(convert(child))
        return node

    top = TreeNode(label)
    top.children.append(convert(root))
    return top


def object_tree(value: Any, label: str) -> TreeNode:
    """Dicts, lists, dataclass-like objects and scalars as a tree (vendor metadata)."""
    if isinstance(value, str) and value.lstrip().startswith("<"):
        return xml_tree(value, label)
    if isinstance(value, dict):
        node = TreeNode(label)
        for i, (key, item) in enumerate(value.items()):
            if i >= MAX_CHILDREN:
                break
            node.children.append(object_tree(item, str(key)))
        return node
    if isinstance(value, (list, tuple)):
        node = TreeNode(label, f"{len(value)} items")
        for i, item in enumerate(value[:MAX_CHILDREN]):
            node.children.append(object_tree(item, f"[{i}]"))
        return node
    if hasattr(value, "model_dump"):
        return object_tree(value.model_dump(), label)
    if hasattr(value, "__dataclass_fields__"):
        return object_tree(
            {k: getattr(value, k) for k in value.__dataclass_fields__}, label
        )
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return TreeNode(label, text[:2000])
