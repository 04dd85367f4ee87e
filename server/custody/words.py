"""The words of custody that the owner's report, its PDF and the console share: (zh-CN, en)."""
from __future__ import annotations

SERVICE_WORDS: dict[str, tuple[str, str]] = {
    "airing": ("通风", "Airing"),
    "cleaning": ("保洁", "Cleaning"),
    "leak_check": ("查漏水", "Leak check"),
    "power_check": ("查电", "Power check"),
    "water_check": ("查水", "Water check"),
    "key_kept": ("钥匙托管", "Key kept"),
    "bills": ("代缴费用", "Bills paid"),
}

REPORT_WORDS: dict[str, tuple[str, str]] = {
    "title": ("房屋托管月度报告", "Home custody report"),
    "month": ("月份", "Month"),
    "home": ("房屋", "Home"),
    "services": ("托管服务", "Services"),
    "period": ("托管期", "Custody period"),
    "until_notice": ("长期", "until further notice"),
    "inspections": ("本月巡查", "Inspections this month"),
    "none": ("本月没有巡查记录。", "No inspection this month."),
    "when": ("巡查时间", "Inspected at"),
    "checked": ("检查项", "What was checked"),
    "ok": ("正常", "OK"),
    "problem": ("有问题", "Problem"),
    "found": ("发现的问题", "What was found"),
    "no_problem": ("本月未发现问题。", "Nothing wrong was found this month."),
    "done": ("处理情况", "What was done"),
    "photos": ("照片", "Photos"),
    "pdf": ("下载 PDF", "Download PDF"),
    "footer": ("睿管家 · 本链接仅供业主查看，请勿转发。", "Guanjia · This link is for the owner only; please do not pass it on."),
}


def word(table: dict[str, tuple[str, str]], key: str, language: str) -> str:
    zh, en = table[key]
    return en if language == "en" else zh
