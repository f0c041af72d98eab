"""The life of an order: states, actions and the rules that allow or refuse each move.

``plan(state, action, route)`` is the single source of truth; services call it before they
change anything, and the state table tests walk every (state, action) pair through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    INITIAL_REVIEW = "initial_review"
    RETURNED = "returned"
    AWAITING_MAIL = "awaiting_mail"
    MAIL_CHECK = "mail_check"
    SMS_VERIFICATION = "sms_verification"
    BUREAU_REVIEW = "bureau_review"
    APPROVED = "approved"
    BUREAU_REJECTED = "bureau_rejected"
    ABANDONED = "abandoned"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.INITIAL_REVIEW: "待初审",
    State.RETURNED: "已退回",
    State.AWAITING_MAIL: "待邮寄资料",
    State.MAIL_CHECK: "资料核对中",
    State.SMS_VERIFICATION: "待短信核验",
    State.BUREAU_REVIEW: "管局审核中",
    State.APPROVED: "接入成功",
    State.BUREAU_REJECTED: "管局驳回",
    State.ABANDONED: "已放弃",
    State.REVOKED: "已撤销",
}

#: States whose time is watched (they have an expected duration and a due date).
TIMED_STATES: frozenset[State] = frozenset(
    {State.INITIAL_REVIEW, State.AWAITING_MAIL, State.MAIL_CHECK, State.SMS_VERIFICATION, State.BUREAU_REVIEW}
)
#: States in which staff work the order (it sits in a queue and may be claimed).
QUEUE_STATES: dict[str, tuple[State, ...]] = {
    "initial-review": (State.INITIAL_REVIEW,),
    "mailing": (State.AWAITING_MAIL, State.MAIL_CHECK),
    "bureau": (State.SMS_VERIFICATION, State.BUREAU_REVIEW),
}
WORKED_STATES: frozenset[State] = frozenset(s for states in QUEUE_STATES.values() for s in states)
#: The queue an order in a state sits in (the one spelling of the state → queue mapping).
QUEUE_OF: dict[str, str] = {state.value: queue for queue, states in QUEUE_STATES.items() for state in states}
TERMINAL_STATES: frozenset[State] = frozenset({State.APPROVED, State.ABANDONED, State.REVOKED})
#: The applicant may terminate only before 初审 passes and after the bureau rejected.
TERMINABLE_STATES: frozenset[State] = frozenset({State.INITIAL_REVIEW, State.RETURNED, State.BUREAU_REJECTED})


def queue_of(state: str) -> str | None:
    """The queue of an order in ``state``; None once it has left the staff's queues."""
    return QUEUE_OF.get(state)


class Action(StrEnum):
    APPROVE = "approve"  # 初审 passed
    REJECT = "reject"  # 初审 rejected, back to the applicant
    RESUBMIT = "resubmit"
    ABANDON = "abandon"
    REVOKE = "revoke"
    RECEIVE_MAIL = "receive_mail"
    MAIL_PASS = "mail_pass"  # noqa: S105 (a workflow action, not a password)
    MAIL_FAIL = "mail_fail"
    SMS_VERIFIED = "sms_verified"
    SMS_FAILED = "sms_failed"
    BUREAU_APPROVE = "bureau_approve"
    BUREAU_REJECT = "bureau_reject"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


#: Actions taken by staff (the applicant's resubmission and terminations are not decisions).
DECISIONS: frozenset[Action] = frozenset(Action) - {Action.RESUBMIT, Action.ABANDON, Action.REVOKE}

ACTION_LABELS: dict[Action, str] = {
    Action.APPROVE: "初审通过",
    Action.REJECT: "初审驳回",
    Action.RESUBMIT: "重新提交",
    Action.ABANDON: "放弃备案",
    Action.REVOKE: "撤销备案",
    Action.RECEIVE_MAIL: "签收邮寄资料",
    Action.MAIL_PASS: "资料核对通过",
    Action.MAIL_FAIL: "资料核对不通过",
    Action.SMS_VERIFIED: "短信核验完成",
    Action.SMS_FAILED: "短信核验失败",
    Action.BUREAU_APPROVE: "管局审核通过",
    Action.BUREAU_REJECT: "管局驳回",
}


@dataclass(frozen=True)
class Route:
    """What decides where an order goes after 初审 and after the mail check."""

    mailing_required: bool = False
    sms_required: bool = False


class TransitionRefused(Exception):
    """An action the rules do not allow in the order's current state."""

    def __init__(self, state: State, action: Action, reason: str):
        self.state = State(state)
        self.action = Action(action)
        self.reason = reason
        super().__init__(f"{action.value} refused in {state.value}: {reason}")

    @property
    def message(self) -> str:
        return f"订单处于「{self.state.label}」，不能执行「{self.action.label}」：{self.reason}"


def _handover(route: Route) -> State:
    """The order is handed to the MIIT system: SMS first where the province requires it."""
    return State.SMS_VERIFICATION if route.sms_required else State.BUREAU_REVIEW


_FIXED: dict[tuple[State, Action], State] = {
    (State.INITIAL_REVIEW, Action.REJECT): State.RETURNED,
    (State.RETURNED, Action.RESUBMIT): State.INITIAL_REVIEW,
    (State.BUREAU_REJECTED, Action.RESUBMIT): State.INITIAL_REVIEW,
    (State.AWAITING_MAIL, Action.RECEIVE_MAIL): State.MAIL_CHECK,
    (State.MAIL_CHECK, Action.MAIL_FAIL): State.AWAITING_MAIL,
    (State.SMS_VERIFICATION, Action.SMS_VERIFIED): State.BUREAU_REVIEW,
    (State.SMS_VERIFICATION, Action.SMS_FAILED): State.RETURNED,
    (State.BUREAU_REVIEW, Action.BUREAU_APPROVE): State.APPROVED,
    (State.BUREAU_REVIEW, Action.BUREAU_REJECT): State.BUREAU_REJECTED,
}


def plan(state: State | str, action: Action | str, route: Route | None = None) -> State:
    """The state the order moves to, or ``TransitionRefused`` naming the state and the action."""
    state, action = State(state), Action(action)
    route = route or Route()
    if action in (Action.ABANDON, Action.REVOKE):
        if state in TERMINABLE_STATES:
            return State.ABANDONED if action is Action.ABANDON else State.REVOKED
        raise TransitionRefused(state, action, _termination_refusal(state))
    if state is State.INITIAL_REVIEW and action is Action.APPROVE:
        return State.AWAITING_MAIL if route.mailing_required else _handover(route)
    if state is State.MAIL_CHECK and action is Action.MAIL_PASS:
        return _handover(route)
    try:
        return _FIXED[(state, action)]
    except KeyError:
        raise TransitionRefused(state, action, _generic_refusal(state)) from None


def _termination_refusal(state: State) -> str:
    if state in TERMINAL_STATES:
        return "订单已结束"
    return "初审通过后至管局审核结束前不能终止备案，请等待管局审核结果"


def _generic_refusal(state: State) -> str:
    if state in TERMINAL_STATES:
        return "订单已结束"
    return "当前状态不允许此操作"


def allowed_actions(state: State | str) -> list[Action]:
    """Actions that some route allows from ``state`` (for buttons and docs)."""
    out = []
    for action in Action:
        try:
            plan(state, action)
        except TransitionRefused:
            continue
        out.append(action)
    return out
