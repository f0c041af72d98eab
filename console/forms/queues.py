"""Queue filters (GET, no CSRF) and the small POST forms of queue rows."""

from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from console.domain.order_fields import Kind
from console.domain.provinces import PROVINCE_NAMES
from console.domain.workflow import QUEUE_STATES
from console.forms import CachedSelect, Form, options
from console.services.queues import QueueFilter

PROVINCE_CHOICES = options([("", "全部省份")] + [(p, p) for p in PROVINCE_NAMES])


class QueueFilterForm(Form):
    """Bound to ``request.args``; invalid values are dropped rather than failing the page."""

    class Meta:
        csrf = False

    q = StringField("搜索", validators=[Optional(), Length(max=100)])
    province = SelectField("省份", choices=PROVINCE_CHOICES, validators=[Optional()], widget=CachedSelect())
    kind = SelectField("类型", choices=options([("", "全部类型")] + [(k.value, k.label) for k in Kind]),
                       validators=[Optional()], widget=CachedSelect())
    state = SelectField("状态", choices=options([("", "全部状态")]), validators=[Optional()], widget=CachedSelect())
    assignee = SelectField("处理人", validators=[Optional()], widget=CachedSelect())
    overdue = BooleanField("仅超时")

    def __init__(self, queue: str, assignees: list[tuple[str, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = options([("", "全部状态")] + [(s.value, s.label) for s in QUEUE_STATES[queue]])
        self.assignee.choices = options([("all", "全部"), ("me", "我的"), ("none", "未领取"), *assignees])

    def to_filter(self) -> QueueFilter:
        """The valid part of the filters (validated once per form)."""
        if getattr(self, "_filter", None) is not None:
            return self._filter
        self.validate()

        def ok(field, default=""):
            return field.data if not field.errors and field.data is not None else default

        self._filter = QueueFilter(
            q=(ok(self.q) or "").strip(),
            province=ok(self.province),
            kind=ok(self.kind),
            state=ok(self.state),
            assignee=ok(self.assignee, "all") or "all",
            overdue=bool(ok(self.overdue, False)),
        )
        return self._filter

    def query_args(self) -> dict:
        f = self.to_filter()
        args = {"q": f.q, "province": f.province, "kind": f.kind, "state": f.state,
                "assignee": "" if f.assignee == "all" else f.assignee, "overdue": "1" if f.overdue else ""}
        return {k: v for k, v in args.items() if v}
