"""The work categories of the monthly plan and inspections, and each category's inspection checklist.

Constants in code, not rows: a checklist changes with a release, not per community. An inspection
stores every answer under its item's key (and the item's words as they were), so changing a list
here never changes an inspection already recorded.
"""
from __future__ import annotations

# code -> (zh-CN, en)
CATEGORIES: dict[str, tuple[str, str]] = {
    "cleaning": ("保洁", "Cleaning"),
    "pest_control": ("消杀", "Pest control"),
    "greening": ("绿化", "Greening"),
    "septic": ("化粪池清掏", "Septic tank emptying"),
    "facility": ("设施设备", "Facilities & equipment"),
    "other": ("其他", "Other"),
}


def _items(*rows: tuple[str, str, str]) -> tuple[dict[str, str], ...]:
    return tuple({"key": key, "zh": zh, "en": en} for key, zh, en in rows)


# category -> its items in the order they are checked; each {key, zh, en}. Keys never change meaning.
CHECKLISTS: dict[str, tuple[dict[str, str], ...]] = {
    "cleaning": _items(
        ("floor_clear", "地面无垃圾杂物", "Floors free of litter and clutter"),
        ("walls_clean", "墙面门窗无污渍", "Walls, doors and windows free of stains"),
        ("bins_emptied", "垃圾桶清理及时", "Bins emptied on time"),
        ("lift_car_clean", "电梯轿厢清洁", "Lift cars clean"),
        ("handrails_dust_free", "楼道扶手无积尘", "Stair handrails free of dust"),
    ),
    "pest_control": _items(
        ("pest_density_ok", "四害密度达标", "Density of the four pests within limits"),
        ("bait_stations_ok", "毒饵站完好有效", "Bait stations intact and stocked"),
        ("records_complete", "消杀记录完整", "Pest-control records complete"),
        ("no_odour", "无异味残留", "No lingering smell"),
    ),
    "greening": _items(
        ("lawn_trimmed", "草坪修剪整齐", "Lawns trimmed evenly"),
        ("no_dead_branches_weeds", "无枯枝杂草", "No dead branches or weeds"),
        ("watered_fed", "浇水施肥及时", "Watered and fed on time"),
        ("no_plant_disease", "无病虫害", "No plant disease or pests"),
    ),
    "septic": _items(
        ("emptied_on_schedule", "按期清掏", "Emptied on schedule"),
        ("no_overflow", "无溢流", "No overflow"),
        ("covers_intact", "井盖完好", "Manhole covers intact"),
        ("records_complete", "清掏记录完整", "Emptying records complete"),
    ),
    "facility": _items(
        ("lifts_running", "电梯运行正常", "Lifts running normally"),
        ("lighting_working", "公共照明完好", "Common-area lighting working"),
        ("fire_equipment_ok", "消防设施完好有效", "Fire equipment intact and in date"),
        ("pumps_normal", "水泵房运行正常", "Pump room running normally"),
        ("doors_access_ok", "门禁对讲正常", "Entrance doors and intercoms working"),
    ),
    "other": _items(
        ("done_as_planned", "按计划完成", "Done as planned"),
        ("quality_ok", "质量达标", "Quality up to standard"),
        ("site_tidy", "现场整洁", "Site left tidy"),
    ),
}


def checklist(category: str) -> tuple[dict[str, str], ...]:
    """The category's items; empty for an unknown category."""
    return CHECKLISTS.get(category, ())
