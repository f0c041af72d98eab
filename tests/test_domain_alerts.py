"""Which alerts are owed when: due soon, overdue, escalation, SMS expiry."""

from datetime import UTC, datetime, timedelta

from console.domain.alerts import plan_alerts

T0 = datetime(2026, 11, 2, tzinfo=UTC)
SOON, DUE = T0 + timedelta(hours=8), T0 + timedelta(hours=10)


def plan(state, now, alerted=None, acked=False):
    return plan_alerts(state, SOON, DUE, now, overdue_alerted_at=alerted, overdue_acknowledged=acked,
                       escalate_at=lambda moment: moment + timedelta(hours=4))


def test_nothing_before_the_last_fifth():
    p = plan("initial_review", SOON - timedelta(seconds=1))
    assert p.kinds == () and p.next_alert_at == SOON


def test_due_soon_then_look_again_at_the_due_time():
    p = plan("initial_review", SOON)
    assert p.kinds == ("due_soon",) and p.next_alert_at == DUE


def test_overdue_at_the_due_time_then_look_again_for_escalation():
    p = plan("initial_review", DUE)
    assert p.kinds == ("overdue",) and p.next_alert_at == DUE + timedelta(hours=4)


def test_bureau_review_has_its_own_overdue_kind():
    assert plan("bureau_review", DUE).kinds == ("bureau_overdue",)


def test_sms_codes_expire_instead_of_alerting():
    assert plan("sms_verification", SOON).kinds == ("sms_expiring",)
    p = plan("sms_verification", DUE)
    assert p.expire_sms and p.kinds == ()


def test_escalation_only_when_unacknowledged_and_late_enough():
    assert plan("mail_check", DUE + timedelta(hours=3), alerted=DUE).kinds == ()
    assert plan("mail_check", DUE + timedelta(hours=4), alerted=DUE).kinds == ("escalated",)
    acked = plan("mail_check", DUE + timedelta(hours=5), alerted=DUE, acked=True)
    assert acked.kinds == () and acked.next_alert_at is None


def test_untimed_orders_are_left_alone():
    assert plan_alerts("returned", None, None, DUE, overdue_alerted_at=None, overdue_acknowledged=False,
                       escalate_at=lambda m: m).next_alert_at is None
