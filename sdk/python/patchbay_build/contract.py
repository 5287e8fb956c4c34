"""The contract as the builds need it, from the copy this package carries:
which interfaces a world exports (from ``wit/worlds.wit``) and each
interface's operations (from ``ports.json``, which a test keeps in step with
``wit/``)."""

import json
import re
from pathlib import Path

DATA = Path(__file__).parent
WIT = DATA / "wit"

PORT_WORLDS = {
    "shop": "shop-provider",
    "courier": "courier-provider",
    "payment": "payment-provider",
    "messaging": "messaging-provider",
    "storage": "storage-provider",
    "llm": "llm-provider",
    "feed": "feed-provider",
    "other": "action-provider",
}


def ports() -> dict:
    """Each exportable interface: its operations, their names and params."""
    return json.loads((DATA / "ports.json").read_text())


def world_exports(wit: Path, world: str) -> list:
    """The interfaces ``world`` exports, ``connector`` first."""
    text = (wit / "worlds.wit").read_text()
    found = re.search(r"world\s+" + re.escape(world) + r"\s*\{(.*?)\}", text, re.S)
    if found is None:
        raise ValueError(f"the contract has no world {world!r}")
    return re.findall(r"^\s*export\s+([a-z0-9-]+)\s*;", found.group(1), re.M)


def pascal(name: str) -> str:
    """``bulk-update`` → ``BulkUpdate``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))
