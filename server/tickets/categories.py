"""The categories of a resident's request (报事报修), defined here once: their codes in the order the
apps offer them, their names in Simplified Chinese and English, and the hint a resident's report
screen shows under each name.

Everything else reads this list: the ticket model and its wire format (the codes), the service
levels (server/tickets/sla.py), notification titles (server/notify/outbox.py), the console's pages,
and the PWA through pwa/js/ticket-categories.js. That file is generated from this one
(`flask --app server pwa-categories` writes it) because the app must name the categories with no
network: it is a file of the app's shell, so the service worker precaches it with the rest.
tests/server/test_pwa.py fails when the two differ.
"""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    hint_zh: str  # what belongs here, in a resident's words (the report screen's tiles)
    hint_en: str


ALL: tuple[Category, ...] = (
    Category("repair", "报修", "Repair", "水电、门窗、家电坏了", "Water, power, doors, appliances"),
    Category("complaint", "投诉", "Complaint", "噪音、卫生、邻里问题", "Noise, hygiene, neighbours"),
    Category("cleaning", "保洁", "Cleaning", "家里或楼道需要打扫", "Home or stairwell needs cleaning"),
    Category("water", "桶装水", "Bottled water", "送桶装水上门", "Bottled water delivered"),
    Category("custody", "房屋托管", "Property custody", "空房子请物业照看", "Look after an empty home"),
    Category("other", "其他", "Other", "其他事情", "Anything else"),
)

CODES: tuple[str, ...] = tuple(category.code for category in ALL)
# Code → (Chinese, English), as server/i18n.py's pick() takes them.
NAMES: dict[str, tuple[str, str]] = {category.code: (category.zh, category.en) for category in ALL}

# Where the PWA's copy lives, relative to pwa/.
PWA_MODULE = "js/ticket-categories.js"


def pwa_module() -> str:
    """The text of pwa/js/ticket-categories.js: the codes, and the names and hints by language."""
    def by_language(zh: str, en: str) -> dict:
        return {"zh-CN": {c.code: getattr(c, zh) for c in ALL}, "en": {c.code: getattr(c, en) for c in ALL}}

    def js(value) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2)

    return (
        "// The categories of a resident's request (报事报修): codes in the order the app offers them, their\n"
        "// names and a resident's hint for each, Simplified Chinese first. Generated from the server's one\n"
        "// list (server/tickets/categories.py) by `flask --app server pwa-categories`: edit that list, not\n"
        "// this file (tests/server/test_pwa.py fails when the two differ).\n"
        "\n"
        f"export const CATEGORIES = {json.dumps(list(CODES))};\n"
        "\n"
        f"export const NAMES = {js(by_language('zh', 'en'))};\n"
        "\n"
        f"export const HINTS = {js(by_language('hint_zh', 'hint_en'))};\n"
    )
