"""Demo data: the community 翠湖花园 with three grids, six buildings and about 600 households.

Deterministic (a fixed random seed and ids derived from names), so running it twice changes
nothing, and refusing to touch a database that holds anything else.
"""
from __future__ import annotations

import calendar
import hashlib
import random
import uuid
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.attendance.models import Checkin
from server.auth.models import User
from server.auth.service import hash_password
from server.community.models import Community, Grid, Household, Person
from server.custody.models import CustodyContract, CustodyInspection, CustodyKey, CustodyKeyMove
from server.joining.models import Invite, JoinRequest
from server.incidents.models import Incident, IncidentCheck, check_id
from server.notices.models import Notice
from server.voice.models import Activity, Poll
from server.operations.checklists import checklist
from server.operations.models import Inspection, WorkPlanItem
from server.products.models import Order, Product
from server.records import utcnow
from server.teams.models import Team
from server.tickets.handoff import address_of, entry
from server.tickets.events import history_of
from server.tickets.models import Ticket, TicketEvent
from server.visits.models import Touchpoint, Visit

DEMO_PASSWORD = "guanjia-demo"
_NAMESPACE = uuid.UUID("6f1d3a52-5a8e-4c1e-9a57-2f7f6b0e9c11")
BUILDINGS = 6
UNITS = 2
FLOORS = 25
ROOMS_PER_FLOOR = 2  # 6 × 2 × 25 × 2 = 600 households

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
          "超", "秀英", "桂英", "建国", "建华", "志强", "海燕", "晓东", "雨涵", "子轩", "欣怡", "浩然"]
_NEEDS = ["桶装水", "家电维修", "保洁", "管道疏通", "老人关怀", "儿童托管", "停车位", "快递代收", "房屋托管"]
_CHECK_ITEMS = ["水电燃气", "门窗", "漏水", "消防安全", "电梯与楼道", "噪音"]
_TICKET_TEXT = {
    "repair": ["厨房水龙头漏水", "卫生间下水道堵塞", "客厅灯不亮", "门锁损坏", "空调滴水"],
    "complaint": ["楼上噪音扰民", "楼道堆放杂物", "宠物粪便未清理", "夜间施工"],
    "cleaning": ["楼道需要清扫", "单元门口有垃圾", "电梯内有异味"],
    "water": ["订两桶水", "饮水机需要清洗"],
    "custody": ["空置房需要定期通风", "托管房屋检查"],
    "other": ["咨询停车办理", "快递无人代收"],
}


def demo_id(*parts: object) -> str:
    """A stable id for a demo record, the same on every run."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


COMMUNITY_ID = demo_id("community")


class NotADemoDatabase(RuntimeError):
    """The database holds data that the demo did not create."""


def has_foreign_data(session: Session) -> bool:
    """Anything but the demo's own community and users is somebody's real data."""
    other_community = session.scalar(sa.select(sa.func.count()).select_from(Community)
                                     .where(Community.id != COMMUNITY_ID))
    real_users = session.scalar(sa.select(sa.func.count()).select_from(User).where(User.demo.is_(False)))
    return bool(other_community or real_users)


def is_seeded(session: Session) -> bool:
    return session.get(Community, COMMUNITY_ID) is not None


def seed(session: Session, *, today: date | None = None) -> bool:
    """Create the demo community; returns False when it already exists (nothing changes)."""
    if has_foreign_data(session):
        raise NotADemoDatabase("the database holds data that is not demo data; seed-demo refuses to run")
    if is_seeded(session):
        return False
    rng = random.Random(20261127)
    now = datetime.combine(today or date.today(), datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=10)

    community = Community(id=COMMUNITY_ID, name="翠湖花园", city="杭州")
    session.add(community)
    session.flush()
    hired = now - timedelta(days=365)  # the staff were there long before the demo's months of history
    supervisor = _user("supervisor1", "supervisor", "陈主管", created_at=hired)
    admin = _user("admin1", "admin", "系统管理员", created_at=hired)  # keeps the company-wide service catalogue
    butlers = [_user(f"butler{i}", "butler", name, created_at=hired)
               for i, name in enumerate(["李管家", "王管家", "张管家"], start=1)]
    grids = [Grid(id=demo_id("grid", i), community_id=COMMUNITY_ID, name=f"{2 * i - 1}–{2 * i}栋网格",
                  butler_id=butlers[i - 1].id) for i in range(1, 4)]
    session.add_all([supervisor, admin, *butlers])
    session.flush()
    session.add_all(grids)

    households = []
    for b in range(1, BUILDINGS + 1):
        grid = grids[(b - 1) // 2]
        for u in range(1, UNITS + 1):
            for floor in range(1, FLOORS + 1):
                for r in range(1, ROOMS_PER_FLOOR + 1):
                    households.append(_household(rng, grid, b, u, floor, r))
    session.add_all(households)
    session.flush()

    residents = [
        _user("resident1", "resident", "刘女士", household_id=households[0].id, household_role="owner"),
        _user("resident2", "resident", "赵先生", household_id=households[51].id, household_role="owner"),
    ]
    session.add_all(residents)
    # One who asked to join 刘女士's home without an invite: butler1 sees the request to approve.
    asking = _user("resident3", "resident", "孙女士")
    session.add(asking)
    session.flush()
    session.add(JoinRequest(id=demo_id("join_request", "resident3"), user_id=asking.id,
                            household_id=households[0].id, household_role="family", owner_name="刘女士",
                            created_at=now - timedelta(hours=3)))
    # Invites issued to two homes, for the console's 入住申请与邀请 page: one still usable, one revoked.
    # Their codes were never kept (nor known: the hash is of a random code), as for any invite.
    for n, (household, revoked) in enumerate(((households[1], None), (households[2], now - timedelta(days=1)))):
        session.add(Invite(id=demo_id("invite", n), code_hash=hashlib.sha256(demo_id("invite-code", n).encode())
                           .hexdigest(), household_id=household.id, household_role="family",
                           issued_by=butlers[0].id, created_at=now - timedelta(days=2),
                           expires_at=now + timedelta(days=5), revoked_at=revoked))

    technicians = _back_office(session, hired)
    # Open tickets are minutes and hours old when the demo is seeded, as in a community being looked
    # after (a seed for a given day, as tests ask, stays the same whatever the hour).
    ticket_clock = now if today else max(now, utcnow().replace(second=0, microsecond=0))
    tickets: list[Ticket] = []
    products = {p.id for p in session.scalars(sa.select(Product))}
    for household in households:
        butler_id = next(g.butler_id for g in grids if g.id == household.grid_id)
        session.add_all(_people(rng, household, now))
        session.add_all(_visits(rng, household, butler_id, now, products))
        session.add_all(_touchpoints(rng, household, butler_id, now))
        tickets += _tickets(rng, household, butler_id, ticket_clock, residents)
        session.add_all(_orders(rng, household, butler_id, now, products))
    _hand_to_back_office(tickets, households, technicians)
    session.add_all(tickets)
    session.flush()
    # Each ticket's timeline, its hand-offs among its steps (the console's ticket page shows it).
    session.execute(sa.insert(TicketEvent), [row for ticket in tickets for row in history_of(ticket)])
    session.add_all(_notices(now))
    _incident(session, now, supervisor.id, households)
    session.add_all(_voice(now, supervisor.id))
    session.add_all(_checkins(now, butlers))
    _operations(session, now, supervisor.id, [butler.id for butler in butlers])
    _custody(session, households, grids[0], now, supervisor.id)
    session.commit()
    return True


def _custody(session: Session, households: list[Household], grid: Grid, now: datetime, supervisor_id: str) -> None:
    """One home in custody (房屋托管) in butler1's grid: its contract, an inspection three weeks ago (so
    the next one is overdue: on butler1's phone and the dashboard) and its key, signed out once and back."""
    home = next(h for h in households if h.grid_id == grid.id and h.status == "custody")
    contract = CustodyContract(id=demo_id("custody_contract", home.id), household_id=home.id, owner_name="周先生",
                               start_date=(now - timedelta(days=90)).date(), end_date=(now + timedelta(days=275)).date(),
                               services=["airing", "cleaning", "leak_check", "power_check", "water_check", "key_kept"],
                               inspection_every_days=14, note="业主在外地工作，每两周巡查一次",
                               created_at=now - timedelta(days=90), updated_at=now - timedelta(days=90))
    at = now - timedelta(days=21)
    inspection = CustodyInspection(
        id=demo_id("custody_inspection", home.id), household_id=home.id, contract_id=contract.id,
        butler_id=grid.butler_id, inspected_at=at, done="开窗通风一小时，擦拭灰尘，拧紧厨房水龙头",
        checklist={**{name: {"ok": True, "note": ""} for name in contract.services},
                   "leak_check": {"ok": False, "note": "厨房水龙头滴水"}},
        created_at=at, updated_at=at)
    key = CustodyKey(id=demo_id("custody_key", home.id), household_id=home.id, label="入户门钥匙", holder="物业前台",
                     created_at=now - timedelta(days=90))
    session.add_all([contract, inspection, key])
    session.flush()
    session.add_all([
        CustodyKeyMove(id=demo_id("custody_key_move", home.id, 1), key_id=key.id, move="out", person="李管家",
                       reason="托管巡查", at=at - timedelta(minutes=30), by_user=supervisor_id),
        CustodyKeyMove(id=demo_id("custody_key_move", home.id, 2), key_id=key.id, move="in", person="李管家",
                       reason="", at=at + timedelta(hours=1), by_user=supervisor_id),
    ])


# The community's notices (公告): (days before today, title, body).
_NOTICES = [
    (9, "秋季消杀安排", "本月 20 日至 22 日对小区绿化带、地下车库和垃圾房进行消杀（灭鼠、灭蚊、灭蝇、灭蟑）。"
        "消杀期间请看管好儿童和宠物，不要触碰投放的药饵。"),
    (3, "业主议事会：电动车充电桩选址", "物业拟在 2 栋和 5 栋之间增设电动车充电桩，"
        "本周六上午 9 点在会所召开业主议事会，欢迎各位业主参加并提出意见。"),
    (1, "停水通知", "因市政供水管道检修，明天上午 9:00 至下午 3:00 小区 1–3 栋停水。"
        "请提前储水，恢复供水后请先放水几分钟。给您带来不便，敬请谅解。如有困难请联系您的管家。"),
]
# Notices for one building (楼栋公告): only its residents read them (the demo's residents live in 1栋).
_BUILDING_NOTICES = [
    (2, "1栋", "1栋电梯年检", "本周四上午 1 栋两部电梯轮流年检，每部约两小时，请错峰出行。"),
    (2, "2栋", "2栋外墙清洗", "下周一至周三清洗 2 栋外墙，请关好窗户，阳台勿晾晒衣物。"),
]


def _notices(now: datetime) -> list[Notice]:
    # Published and told already; the water cut-off (the newest) pinned on top.
    return [Notice(id=demo_id("notice", i), community_id=COMMUNITY_ID, title=title, body=body,
                   published_at=now - timedelta(days=days), created_at=now - timedelta(days=days),
                   updated_at=now - timedelta(days=days), notified_at=now - timedelta(days=days),
                   pinned=title == "停水通知")
            for i, (days, title, body) in enumerate(_NOTICES)] + [
        Notice(id=demo_id("notice", "building", i), community_id=COMMUNITY_ID, title=title, body=body,
               building=building, published_at=now - timedelta(days=days), created_at=now - timedelta(days=days),
               updated_at=now - timedelta(days=days), notified_at=now - timedelta(days=days))
        for i, (days, building, title, body) in enumerate(_BUILDING_NOTICES)]


def _incident(session: Session, now: datetime, supervisor_id: str, households: list[Household]) -> None:
    """A closed emergency (突发事件) of last week: a leak in 1栋, the homes' answers, the all-clear."""
    started = now - timedelta(days=6, hours=3)
    incident = Incident(id=demo_id("incident", 1), community_id=COMMUNITY_ID, kind="leak", severity="serious",
                        title="1栋地下室水管漏水", body="1栋地下室给水管破裂，维修人员正在抢修，1栋暂停供水。",
                        buildings=["1栋"], started_at=started, ended_at=started + timedelta(hours=3),
                        all_clear_note="水管已修复，1栋恢复供水。", knock_after_minutes=15, raised_by=supervisor_id,
                        created_at=started, updated_at=started + timedelta(hours=3))
    session.add(incident)
    session.flush()
    # Most of the first homes answered themselves; one asked for help; the butler knocked at one.
    answers = ["safe"] * 6 + ["need_help", "not_home"]
    session.add_all([IncidentCheck(id=check_id(incident.id, home.id), incident_id=incident.id, household_id=home.id,
                                   answer=answer, source="butler" if answer == "not_home" else "resident",
                                   answered_at=started + timedelta(minutes=5 + 3 * n), created_at=started,
                                   updated_at=started + timedelta(minutes=5 + 3 * n))
                     for n, (home, answer) in enumerate(zip(households, answers))])


def _options(*texts: str) -> list[dict]:
    return [{"id": f"o{i}", "text": text} for i, text in enumerate(texts, start=1)]


def _voice(now: datetime, supervisor_id: str) -> list:
    """The community's voice (共治): an open vote on the charging points, the quarter's satisfaction
    consultation (anonymous), and an activity to sign up for."""
    return [
        Poll(id=demo_id("poll", 0), community_id=COMMUNITY_ID, kind="vote", title="电动车充电桩选址表决",
             body="议事会提出两处选址，请每户投一票。", one_per="household", quorum=300, created_by=supervisor_id,
             questions=[{"id": "q1", "text": "您同意哪一处选址？", "type": "single",
                         "options": _options("2 栋与 5 栋之间", "地下车库 B 区", "都不同意")}],
             opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=12)),
        Poll(id=demo_id("poll", 1), community_id=COMMUNITY_ID, kind="satisfaction", title="本季度物业服务满意度征询",
             anonymous=True, created_by=supervisor_id,
             questions=[{"id": "q1", "text": "您对管家服务的满意度", "type": "score", "options": []},
                        {"id": "q2", "text": "您最希望改进哪些方面？", "type": "multi",
                         "options": _options("保洁", "绿化", "安保", "维修响应")}],
             opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=20)),
        Activity(id=demo_id("activity", 0), community_id=COMMUNITY_ID, title="中秋游园会", place="中心花园",
                 body="猜灯谜、做月饼，欢迎全家参加。", capacity=120, starts_at=now + timedelta(days=9)),
    ]


# The butlers' check-ins (签到/签退) since the start of last month, on the community's calendar
# (Asia/Shanghai), so that this month's and last month's attendance pages are whole: most mornings before
# 09:00, some late, one day missed by 王管家 and one by 张管家; today only the 签到.
_MISSED = {1: {5}, 2: {12}}  # butler index -> days before today without any check-in


def _checkins(now: datetime, butlers: list[User]) -> list[Checkin]:
    from zoneinfo import ZoneInfo

    rng = random.Random("checkins")  # its own stream: the rest of the demo stays as it was
    zone = ZoneInfo("Asia/Shanghai")
    today = now.astimezone(zone).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    out = []
    for i, butler in enumerate(butlers):
        for ago in range((today - last_month).days, -1, -1):
            if ago in _MISSED.get(i, ()):
                continue
            day = today - timedelta(days=ago)
            late = rng.random() < 0.15
            minutes_in = rng.randint(9 * 60 + 3, 9 * 60 + 35) if late else rng.randint(8 * 60 + 15, 8 * 60 + 58)
            taps = [("in", minutes_in)]
            if ago:  # today's 签退 is still to come
                taps.append(("out", rng.randint(17 * 60 + 30, 18 * 60 + 40)))
            for kind, minutes in taps:
                at = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(minutes=minutes)
                at = at.astimezone(timezone.utc)
                out.append(Checkin(id=demo_id("checkin", butler.username, day.isoformat(), kind), butler_id=butler.id,
                                   community_id=COMMUNITY_ID, kind=kind, at=at, note="", created_at=at,
                                   updated_at=at))
    return out


def _user(username: str, role: str, name: str, household_id: str | None = None,
          created_at: datetime | None = None, household_role: str | None = None,
          team_id: str | None = None) -> User:
    return User(id=demo_id("user", username), username=username, password_hash=hash_password(DEMO_PASSWORD),
                role=role, name=name, community_id=COMMUNITY_ID, household_id=household_id, demo=True,
                household_role=household_role, team_id=team_id, **({"created_at": created_at} if created_at else {}))


# The back office (后台): (team, kind, company, [(username, name)]).
_TEAMS = [
    ("工程部", "engineering", "", [("tech1", "周师傅"), ("tech2", "吴师傅")]),
    ("保洁组", "cleaning", "", [("tech3", "郑阿姨")]),
    ("秩序部", "security", "", [("tech4", "孙队长")]),
    ("电梯维保", "vendor", "迅达电梯服务公司", [("tech5", "钱工")]),
]
# Which team a ticket of each category goes to (the others stay with the butler).
_TEAM_OF_CATEGORY = {"repair": "engineering", "cleaning": "cleaning", "complaint": "security"}


def _back_office(session: Session, hired: datetime) -> dict[str, list[User]]:
    """The teams and their technicians, by team kind."""
    by_kind: dict[str, list[User]] = {}
    for i, (name, kind, company, people) in enumerate(_TEAMS):
        team = Team(id=demo_id("team", i), community_id=COMMUNITY_ID, name=name, kind=kind, company=company,
                    members=[{"id": demo_id("user", username), "name": person} for username, person in people],
                    created_at=hired, updated_at=hired)
        session.add(team)
        session.flush()
        staff = [_user(username, "technician", person, created_at=hired, team_id=team.id)
                 for username, person in people]
        session.add_all(staff)
        by_kind[kind] = staff
    session.flush()
    return by_kind


def _hand_to_back_office(tickets: list[Ticket], households: list[Household],
                         technicians: dict[str, list[User]]) -> None:
    """Every other repair, cleaning and complaint goes to its team, as a butler hands it on: done ones by
    a technician of the team, a few waiting in the team's pool (抢单) or in a technician's hands."""
    address = {h.id: address_of(h) for h in households}
    n = 0
    for ticket in tickets:
        ticket.address = address[ticket.household_id]
        kind = _TEAM_OF_CATEGORY.get(ticket.category)
        if kind is None or ticket.status in ("new", "cancelled"):
            continue
        n += 1
        if n % 2:
            continue
        staff = technicians[kind]
        tech = staff[(n // 2) % len(staff)]
        handed = ticket.created_at + timedelta(minutes=2)  # before any demo acceptance (3 minutes or more)
        ticket.team_id, ticket.handed_at = tech.team_id, handed
        log = [entry("assigned", by=ticket.assignee_id, team_id=tech.team_id, assignee_id=None, note="",
                     at=handed)]
        if ticket.status == "dispatched":
            ticket.assignee_id = None  # waiting in the team's pool
        else:
            ticket.assignee_id = tech.id
            log.append(entry("grabbed", by=tech.id, team_id=tech.team_id, assignee_id=tech.id, note="",
                             at=ticket.accepted_at or handed))
        ticket.handoffs = log


def _household(rng: random.Random, grid: Grid, building: int, unit: int, floor: int, room: int) -> Household:
    status = rng.choices(["self_occupied", "rented", "vacant", "custody"], weights=[70, 18, 8, 4])[0]
    tags = []
    if status in ("self_occupied", "rented") and rng.random() < 0.08:
        tags.append("独居老人")
    if rng.random() < 0.2:
        tags.append("有小孩")
    if rng.random() < 0.1:
        tags.append("养宠物")
    return Household(
        id=demo_id("household", building, unit, floor, room), community_id=COMMUNITY_ID, grid_id=grid.id,
        building=f"{building}栋", unit=f"{unit}单元", room=f"{floor}{room:02d}", status=status,
        area_m2=rng.choice([89.5, 98.0, 118.6, 126.0, 143.2]), tags=tags,
        notes="业主长期在外，钥匙托管在物业" if status == "custody" else "",
        visit_cycle_days=30 if "独居老人" in tags else 90,
    )


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _people(rng: random.Random, household: Household, now: datetime) -> list[Person]:
    if household.status == "vacant":
        count = 1
    elif "独居老人" in household.tags:
        count = 1
    else:
        count = rng.randint(1, 4)
    people = []
    for i in range(count):
        relation = "owner" if i == 0 else ("tenant" if household.status == "rented" else "family")
        consent = rng.random() < 0.85
        elderly = "独居老人" in household.tags
        people.append(Person(
            id=demo_id("person", household.id, i), household_id=household.id, name=_name(rng),
            relation=relation, consent=consent, consent_at=now - timedelta(days=180) if consent else None,
            phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if consent else None,
            birth_year=(rng.randint(1935, 1955) if elderly else rng.randint(1960, 2015)) if consent else None,
            tags=["行动不便"] if elderly and rng.random() < 0.5 else [],
        ))
    return people


def _visits(rng, household, butler_id, now, products) -> list[Visit]:
    visits = []
    for i in range(rng.choice([0, 1, 1, 2, 2, 3])):
        at = now - timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 8))
        checklist = {item: {"ok": rng.random() > 0.1, "note": ""} for item in _CHECK_ITEMS}
        for item, entry in checklist.items():
            if not entry["ok"]:
                entry["note"] = f"{item}需要跟进"
        visits.append(Visit(
            id=demo_id("visit", household.id, i), household_id=household.id, butler_id=butler_id,
            visited_at=at, kind=rng.choices(["routine", "follow_up", "new_owner", "complaint"],
                                            weights=[80, 10, 5, 5])[0],
            checklist=checklist, needs=rng.sample(_NEEDS, rng.randint(0, 2)),
            satisfaction=rng.choices([5, 4, 3, 2, 1], weights=[45, 35, 12, 5, 3])[0],
            products_interest=rng.sample(sorted(products), rng.randint(0, 2)) if products else [],
            notes="住户反馈良好" if rng.random() < 0.5 else "",
            follow_up_at=(at + timedelta(days=14)).date() if rng.random() < 0.15 else None,
            created_at=at, updated_at=at,
        ))
    return visits


def _touchpoints(rng, household, butler_id, now) -> list[Touchpoint]:
    return [Touchpoint(id=demo_id("touchpoint", household.id, i), household_id=household.id,
                       butler_id=butler_id, at=now - timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 12)),
                       channel=rng.choice(["lobby", "phone", "wechat", "other"]),
                       summary=rng.choice(["大堂偶遇，问候近况", "电话确认维修时间", "微信通知停水", "提醒缴纳物业费"]))
            for i in range(rng.choice([0, 0, 1, 2]))]


def _age(rng, status: str) -> timedelta:
    """How long ago a demo ticket was raised, as in a community that is being looked after: an open
    ticket is mostly within its service level (minutes to be accepted, hours to be resolved) and now
    and then late; a finished one is from the last two months (its later steps before now)."""
    late = rng.random() < 0.15
    if status in ("new", "dispatched"):
        return timedelta(minutes=rng.randint(20, 180) if late else rng.randint(3, 12))  # handed on at 2
    if status in ("accepted", "in_progress"):
        return timedelta(hours=rng.randint(26, 60) if late else rng.randint(1, 20), minutes=rng.randint(0, 59))
    return timedelta(days=rng.randint(3, 60), hours=rng.randint(0, 20))  # resolved and closed before now


def _tickets(rng, household, butler_id, now, residents) -> list[Ticket]:
    tickets = []
    raised_by = next((r.id for r in residents if r.household_id == household.id), None)
    for i in range(1 if rng.random() < 0.3 else 0):
        category = rng.choices(list(_TICKET_TEXT), weights=[45, 15, 15, 15, 5, 5])[0]
        status = rng.choices(["new", "dispatched", "accepted", "in_progress", "resolved", "closed", "cancelled"],
                             weights=[4, 6, 5, 5, 15, 60, 5])[0]
        created = now - _age(rng, status)
        ticket = Ticket(id=demo_id("ticket", household.id, i), household_id=household.id, raised_by=raised_by,
                        category=category, description=rng.choice(_TICKET_TEXT[category]), status=status,
                        priority="urgent" if category == "repair" and rng.random() < 0.08 else "normal",
                        created_at=created, updated_at=created)
        if status not in ("new", "cancelled"):
            ticket.assignee_id = butler_id
        if status in ("accepted", "in_progress", "resolved", "closed"):
            ticket.accepted_at = created + timedelta(minutes=rng.randint(3, 40))
        if status in ("resolved", "closed"):
            ticket.resolved_at = ticket.accepted_at + timedelta(hours=rng.randint(1, 48))
            ticket.resolution_note = "已处理完毕"
            ticket.backoffice_rating = rng.choices([5, 4, 3, 2], weights=[40, 40, 15, 5])[0]
        if status == "closed":
            ticket.closed_at = ticket.resolved_at + timedelta(hours=rng.randint(1, 24))
            ticket.rating = rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 10, 6, 4])[0]
        tickets.append(ticket)
    return tickets


def _orders(rng, household, butler_id, now, products) -> list[Order]:
    if not products or rng.random() > 0.15:
        return []
    code = rng.choice(sorted(products))
    at = now - timedelta(days=rng.randint(0, 90))
    order = Order(id=demo_id("order", household.id), household_id=household.id, product_code=code,
                  quantity=rng.randint(1, 3), status=rng.choice(["placed", "confirmed", "delivered"]),
                  recommended_by=butler_id if rng.random() < 0.6 else None, created_at=at, updated_at=at)
    # The steps' times, for the resident's timeline: confirmed within the hour, delivered the same day.
    if order.status in ("confirmed", "delivered"):
        order.confirmed_at = at + timedelta(minutes=40)
    if order.status == "delivered":
        order.delivered_at = at + timedelta(hours=5)
    return [order]


# The month's work plan (月度工作计划): (day of the month, category, title, contractor, whose: None =
# the supervisor's own, else the butler's index). Items due before today are done, but for the
# 化粪池 one, which is overdue: a plan worth opening.
_PLAN = [
    (3, "facility", "二次供水水箱清洗消毒", "清源水务", None),
    (5, "cleaning", "1–6栋楼道及扶手深度保洁", "洁美保洁服务有限公司", 0),
    (8, "greening", "草坪修剪及绿篱整形", "青青园林绿化", None),
    (10, "septic", "化粪池清掏（2、5栋）", "通达环卫", None),
    (12, "facility", "电梯月度维保检查", "迅达电梯维保", None),
    (15, "cleaning", "地下车库地面冲洗", "洁美保洁服务有限公司", 1),
    (18, "greening", "乔木病虫害防治", "青青园林绿化", None),
    (21, "pest_control", "绿化带、地下车库、垃圾房消杀（四害）", "绿盾有害生物防治", None),
    (25, "cleaning", "外墙及单元门玻璃清洗", "洁美保洁服务有限公司", 2),
    (28, "other", "消防通道杂物清理检查", "", 0),
]
# Inspections of the last weeks: (days before today, category, place, keys that failed, note on a failure).
_INSPECTIONS = [
    (1, "cleaning", "3栋大堂", ["lift_car_clean"], "轿厢地面有污渍"),
    (2, "facility", "地下水泵房", [], ""),
    (4, "greening", "中心花园", ["no_dead_branches_weeds"], "东侧绿篱有枯枝"),
    (6, "pest_control", "2号垃圾房", [], ""),
    (9, "cleaning", "5栋电梯厅", [], ""),
    (13, "septic", "2栋化粪池", ["records_complete"], "缺少上次清掏签字"),
]


def _operations(session: Session, now: datetime, supervisor_id: str, butler_ids: list[str]) -> None:
    """This month's work plan and a few quality inspections of the last two weeks."""
    today = now.date()
    month = today.replace(day=1)
    last_day = calendar.monthrange(month.year, month.month)[1]
    items = []
    for i, (day, category, title, contractor, whose) in enumerate(_PLAN):
        due = month.replace(day=min(day, last_day))
        finished = due < today and category != "septic"
        items.append(WorkPlanItem(
            id=demo_id("plan", month.isoformat(), i), community_id=COMMUNITY_ID, month=month, category=category,
            title=title, due_date=due, contractor=contractor,
            assignee_id=butler_ids[whose] if whose is not None else supervisor_id,
            done_at=now - timedelta(days=(today - due).days) if finished else None,
            done_by=supervisor_id if finished else None, done_note="已验收" if finished else "",
            created_by=supervisor_id, created_at=now - timedelta(days=today.day), updated_at=now))
    session.add_all(items)
    session.flush()  # the inspections below point at these
    done = [item for item in items if item.done_at is not None]  # by due date
    for i, (days, category, place, failed, note) in enumerate(_INSPECTIONS):
        answers = [{**entry, "passed": entry["key"] not in failed, "note": note if entry["key"] in failed else ""}
                   for entry in checklist(category)]
        inspected_on = today - timedelta(days=days)
        checked = [item.id for item in done if item.category == category and item.due_date <= inspected_on]
        session.add(Inspection(
            id=demo_id("inspection", i), community_id=COMMUNITY_ID, inspected_on=inspected_on, category=category,
            place=place, inspector_id=supervisor_id,
            plan_item_id=checked[-1] if checked else None, items=answers,
            passed=sum(answer["passed"] for answer in answers), total=len(answers),
            created_at=now - timedelta(days=days)))
