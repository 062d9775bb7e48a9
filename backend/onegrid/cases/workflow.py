"""The case state machine: one table a reader can check against the national workflow.

网格上报、社区汇总、街道派单、部门反馈 — report (grid) → screen (community) → file and dispatch
(street) → accept, handle, report back (unit) → verify on site (grid/community) → close
(street) → evaluate; with the side paths send back, return for details, void, park/resume,
extension, rework, escalation (督办), merge of duplicates and self-handling (自处理).

Pure Python: the service applies what `check_transition` allows and writes the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from onegrid.errors import InvalidInput, TransitionNotAllowed

# States, with the names staff see.
STATUS_NAMES = {
    "reported": "已上报(待社区汇总)",
    "returned": "已退回(待补充)",
    "screened": "社区已汇总(待立案)",
    "filed": "已立案(待派遣)",
    "dispatched": "已派遣(待签收)",
    "handling": "处置中",
    "reported_back": "已反馈(待核查)",
    "verified": "已核查(待结案)",
    "closed": "已结案",
    "evaluated": "已评价",
    "parked": "挂账",
    "voided": "已作废",
    "merged": "已合并",
}
STATUSES = tuple(STATUS_NAMES)
# Status words of imported files that mean the case is finished.
CLOSED_WORDS = (
    "closed",
    "close",
    "resolved",
    "completed",
    "done",
    "已结案",
    "已办结",
    "办结",
    "结案",
)
FINISHED = frozenset({"closed", "evaluated", "voided", "merged"})
OPEN = frozenset(STATUSES) - FINISHED

# The step whose clock runs in each state (deadlines.py does the arithmetic). Returned and
# parked cases have no running clock; finished ones none at all.
STEP_OF_STATUS = {
    "reported": "file",
    "screened": "file",
    "filed": "file",
    "dispatched": "handle",
    "handling": "handle",
    "reported_back": "verify",
    "verified": "close",
}

GRID_STAFF = frozenset({"grid_leader", "grid_worker"})
STREET = frozenset({"street_admin", "street_dispatcher"})
HANDLERS = frozenset({"department_handler", "property_staff"})

SAME = "="  # the action leaves the state as it is (escalation, extensions)
RESUMED = "<parked_from>"  # resume returns to the state the case was parked in
BY_VERDICT = "<verdict>"  # verify: passed → verified, failed → handling again (rework)


@dataclass(frozen=True)
class Transition:
    action: str
    name: str  # what staff call it
    moves: Mapping[str, str]  # from state → to state
    roles: frozenset[str]
    requires: tuple[str, ...] = ()  # fields the request must carry (see REQUIREMENTS)
    own_unit_only: bool = False  # only the unit the case is dispatched to


def _from(states: str, to: str) -> dict[str, str]:
    return {s: to for s in states.split()}


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "screen", "社区汇总", _from("reported", "screened"), frozenset({"community_staff"})
        ),
        Transition(
            "return",
            "退回补充",
            _from("reported", "returned"),
            frozenset({"community_staff"}),
            ("reason",),
        ),
        Transition(
            "resubmit",
            "重新上报",
            _from("returned", "reported"),
            GRID_STAFF | {"resident"},
            ("note",),
        ),
        Transition(
            "send_back",
            "退回社区",
            _from("screened", "reported"),
            STREET,
            ("reason",),
        ),
        Transition(
            "decline",
            "退单",
            _from("dispatched handling", "filed"),
            HANDLERS,
            ("reason",),
            own_unit_only=True,
        ),
        Transition(
            "void",
            "作废",
            _from("reported returned screened filed", "voided"),
            STREET | {"community_staff"},
            ("reason", "report_valid"),
        ),
        Transition("file", "立案", _from("screened", "filed"), STREET),
        Transition("dispatch", "派遣", _from("filed", "dispatched"), STREET),
        Transition("accept", "签收", _from("dispatched", "handling"), HANDLERS, own_unit_only=True),
        Transition(
            "report_back",
            "处置反馈",
            _from("handling", "reported_back"),
            HANDLERS,
            ("note_or_attachment",),
            own_unit_only=True,
        ),
        Transition(
            "verify",
            "核查",
            _from("reported_back", BY_VERDICT),
            GRID_STAFF | {"community_staff"},
            ("verdict", "note"),
        ),
        Transition("close", "结案", _from("verified", "closed"), STREET),
        Transition(
            "evaluate",
            "评价",
            _from("closed", "evaluated"),
            STREET | {"community_staff", "resident"},
            ("satisfaction",),
        ),
        Transition(
            "park", "挂账", _from("filed dispatched handling", "parked"), STREET, ("reason",)
        ),
        Transition("resume", "恢复", _from("parked", RESUMED), STREET),
        Transition(
            "request_extension",
            "申请延期",
            _from("dispatched handling", SAME),
            HANDLERS,
            ("reason", "extension"),
            own_unit_only=True,
        ),
        Transition("approve_extension", "批准延期", _from("dispatched handling", SAME), STREET),
        Transition(
            "reject_extension",
            "驳回延期",
            _from("dispatched handling", SAME),
            STREET,
            ("reason",),
        ),
        Transition(
            "escalate",
            "督办",
            _from("filed dispatched handling reported_back", SAME),
            frozenset({"street_admin"}),
            ("note",),
        ),
        Transition(
            "self_handle",
            "自处理",
            _from("reported", "closed"),
            GRID_STAFF,
            ("note_or_attachment",),
        ),
        Transition(
            "merge",
            "合并",
            _from("reported returned screened", "merged"),
            GRID_STAFF | {"community_staff", "street_dispatcher"},
            ("into",),
        ),
    )
}

REQUIREMENTS = {
    "reason": "a reason",
    "note": "a note",
    "note_or_attachment": "a note or an attachment",
    "report_valid": "report_valid (true: a real report voided for cause, e.g. already solved;"
    " false: not a valid report)",
    "verdict": "a verdict (passed or failed)",
    "satisfaction": "a satisfaction rating from 1 to 5",
    "extension": "the extension asked for, e.g. 2wd",
    "into": "the id of the case to merge into",
}


def allowed_actions(status: str, role: str | None = None) -> list[str]:
    """Actions possible from `status` (for `role`, when given), in table order."""
    return [
        t.action
        for t in TRANSITIONS.values()
        if status in t.moves and (role is None or role in t.roles)
    ]


def check_transition(action: str, status: str, role: str, fields: Mapping[str, object]) -> str:
    """The state `action` leads to from `status`, or an error saying what is allowed.

    The target may be SAME, RESUMED or BY_VERDICT, which the service resolves.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise InvalidInput(
            f"unknown action {action!r}; actions are {', '.join(TRANSITIONS)}", field="action"
        )
    if status not in transition.moves:
        raise TransitionNotAllowed(
            f"cannot {action} a case that is {status} ({STATUS_NAMES.get(status, status)});"
            f" allowed from {status}: {', '.join(allowed_actions(status)) or 'nothing'}",
            field="action",
            status=status,
            allowed=allowed_actions(status),
        )
    if role not in transition.roles:
        raise TransitionNotAllowed(
            f"role {role} may not {action} ({transition.name}); that is for "
            f"{', '.join(sorted(transition.roles))}. Allowed for {role} now: "
            f"{', '.join(allowed_actions(status, role)) or 'nothing'}",
            field="role",
            status=status,
            allowed=allowed_actions(status, role),
        )
    for need in transition.requires:
        if not _present(need, fields):
            raise InvalidInput(f"{action} needs {REQUIREMENTS[need]}", field=need)
    return transition.moves[status]


def _present(need: str, fields: Mapping[str, object]) -> bool:
    if need == "note_or_attachment":
        note = fields.get("note")
        return (isinstance(note, str) and bool(note.strip())) or bool(fields.get("attachments"))
    value = fields.get(need)
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None
