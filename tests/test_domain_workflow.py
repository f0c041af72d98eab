"""The state table of DOMAIN.md, every (state, action) pair, allowed or refused."""

import pytest

from console.domain.provinces import PROVINCES, SMS_EVERYWHERE_FROM, normalise_province
from console.domain.workflow import Action, Route, State, TransitionRefused, allowed_actions, plan

S, A = State, Action
NO_MAIL_NO_SMS = Route(mailing_required=False, sms_required=False)
MAIL = Route(mailing_required=True, sms_required=True)
SMS = Route(mailing_required=False, sms_required=True)

#: (state, action, route) -> target; every pair not listed here must be refused.
ALLOWED = {
    (S.INITIAL_REVIEW, A.APPROVE, NO_MAIL_NO_SMS): S.BUREAU_REVIEW,
    (S.INITIAL_REVIEW, A.APPROVE, SMS): S.SMS_VERIFICATION,
    (S.INITIAL_REVIEW, A.APPROVE, MAIL): S.AWAITING_MAIL,
    (S.INITIAL_REVIEW, A.REJECT, None): S.RETURNED,
    (S.INITIAL_REVIEW, A.ABANDON, None): S.ABANDONED,
    (S.INITIAL_REVIEW, A.REVOKE, None): S.REVOKED,
    (S.RETURNED, A.RESUBMIT, None): S.INITIAL_REVIEW,
    (S.RETURNED, A.ABANDON, None): S.ABANDONED,
    (S.RETURNED, A.REVOKE, None): S.REVOKED,
    (S.AWAITING_MAIL, A.RECEIVE_MAIL, None): S.MAIL_CHECK,
    (S.MAIL_CHECK, A.MAIL_PASS, SMS): S.SMS_VERIFICATION,
    (S.MAIL_CHECK, A.MAIL_PASS, NO_MAIL_NO_SMS): S.BUREAU_REVIEW,
    (S.MAIL_CHECK, A.MAIL_FAIL, None): S.AWAITING_MAIL,
    (S.SMS_VERIFICATION, A.SMS_VERIFIED, None): S.BUREAU_REVIEW,
    (S.SMS_VERIFICATION, A.SMS_FAILED, None): S.RETURNED,
    (S.BUREAU_REVIEW, A.BUREAU_APPROVE, None): S.APPROVED,
    (S.BUREAU_REVIEW, A.BUREAU_REJECT, None): S.BUREAU_REJECTED,
    (S.BUREAU_REJECTED, A.RESUBMIT, None): S.INITIAL_REVIEW,
    (S.BUREAU_REJECTED, A.ABANDON, None): S.ABANDONED,
    (S.BUREAU_REJECTED, A.REVOKE, None): S.REVOKED,
}
ALLOWED_PAIRS = {(s, a) for s, a, _ in ALLOWED}


@pytest.mark.parametrize(("state", "action", "route", "target"),
                         [(s, a, r, t) for (s, a, r), t in ALLOWED.items()])
def test_allowed_transition(state, action, route, target):
    assert plan(state, action, route) is target


@pytest.mark.parametrize(("state", "action"),
                         [(s, a) for s in State for a in Action if (s, a) not in ALLOWED_PAIRS])
def test_refused_transition_names_state_and_action(state, action):
    with pytest.raises(TransitionRefused) as caught:
        plan(state, action, MAIL)
    assert caught.value.state is state and caught.value.action is action
    assert state.label in caught.value.message and action.label in caught.value.message


@pytest.mark.parametrize("state", [S.AWAITING_MAIL, S.MAIL_CHECK, S.SMS_VERIFICATION, S.BUREAU_REVIEW])
@pytest.mark.parametrize("action", [A.ABANDON, A.REVOKE])
def test_termination_is_refused_between_initial_approval_and_the_bureau_decision(state, action):
    with pytest.raises(TransitionRefused, match="初审通过后至管局审核结束前"):
        plan(state, action)


@pytest.mark.parametrize("state", [S.APPROVED, S.ABANDONED, S.REVOKED])
def test_terminal_states_allow_nothing(state):
    assert allowed_actions(state) == []


def test_province_table_has_31_bureaus_with_the_unusual_prefixes():
    assert len(PROVINCES) == 31
    assert {PROVINCES[p].icp_prefix for p in ("四川", "贵州", "陕西", "甘肃")} == {"蜀", "黔", "陕", "陇"}
    assert PROVINCES["浙江"].bureau_limit_days == 30


@pytest.mark.parametrize(("province", "before", "on"), [
    ("天津", "2017-12-17", "2017-12-18"),
    ("浙江", "2018-09-09", "2018-09-10"),
    ("山东", "2018-09-23", "2018-09-24"),
    ("北京", "2020-08-16", "2020-08-17"),
])
def test_sms_rule_by_submission_date(province, before, on):
    from datetime import date

    rule = PROVINCES[province]
    assert rule.sms_required_for(date.fromisoformat(before)) is False
    assert rule.sms_required_for(date.fromisoformat(on)) is True


def test_every_province_requires_sms_today():
    from datetime import date

    assert all(r.sms_required_for(date(2026, 11, 28)) for r in PROVINCES.values())
    assert SMS_EVERYWHERE_FROM.isoformat() == "2020-08-17"


@pytest.mark.parametrize(("text", "name"), [("浙江", "浙江"), ("浙江省", "浙江"), ("广西壮族自治区", "广西"),
                                            ("北京市", "北京"), ("火星", None), ("", None)])
def test_normalise_province(text, name):
    assert normalise_province(text) == name
