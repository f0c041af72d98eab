"""The portal API as an OpenAPI 3.1 document, built from the same tables the parser uses.

Served at ``/api/v1/openapi.json``. The order body's schema comes from
``console.domain.order_fields`` (one table for the parser, the model mapping and this document),
so a field added to the contract is documented by adding it there. Tests validate real responses
against this document and fuzz the API with bodies generated from it.
"""

from __future__ import annotations

from console.domain.applicant_texts import EVENT_LABELS, EVENT_TYPE_CODES
from console.domain.order_body import MAX_DOMAINS, MAX_MATERIALS, ORDER_NO_RE
from console.domain.order_fields import ORIGINAL_FILING_KEYS, SCALAR_FIELDS, Kind
from console.domain.text import MAX_INT
from console.domain.workflow import State

ERROR_STATUSES = {
    "400": "请求格式不正确（不是 JSON、嵌套过深）",
    "401": "缺少或无效的 API 令牌",
    "404": "订单不存在，或订单号格式无效",
    "409": "冲突：同一订单号内容不同，或当前状态不允许此操作",
    "413": "请求体过大",
    "422": "字段无效（fields 给出每个字段的原因）",
}


def _scalar_schema(field) -> dict:
    if field.kind == "bool":
        return {"type": "boolean", "description": field.label}
    schema: dict = {"type": "string", "maxLength": field.max_length, "description": field.label}
    if field.kind == "date":
        schema = {"type": "string", "format": "date", "description": field.label + "（YYYY-MM-DD）"}
    if field.choices:
        schema["enum"] = list(field.choices)
    return schema


#: DESIGN.md's example body with what round 2 added (instance owner and term, applicant account).
EXAMPLE_BODY = {
    "order_no": "JR2026112800001", "kind": "new_access", "submitted_at": "2026-11-28T09:30:00+08:00",
    "applicant": {"account": "acct-1001"},
    "subject": {"type": "enterprise", "name": "杭州云栈科技有限公司", "certificate_type": "uscc",
                "certificate_number": "91330106MA2B3C4D5D",
                "certificate_address": {"province": "浙江", "city": "杭州市", "district": "西湖区", "detail": "文三路90号"},
                "mailing_address": {"province": "浙江", "city": "杭州市", "district": "西湖区", "detail": "文三路90号"},
                "address_remark": "", "filing_number": "浙ICP备12345678号", "legal_representative": "张伟"},
    "website": {"name": "云栈科技官网", "domains": ["yunzhan.cn"], "filing_number": "浙ICP备12345678号-1",
                "previous_provider": "another cloud"},
    "principal": {"name": "张伟", "id_type": "resident_id", "id_number": "330106199003071236",
                  "mobile": "13800138000", "mobile2": "", "email": "zhangwei@yunzhan.cn", "emergency_phone": ""},
    "product": {"instance_id": "i-bp1example", "region": "cn-hangzhou", "public_ip": "47.96.1.2", "verified": True,
                "owner_account": "acct-1001", "service_end": "2027-11-27"},
    "prechecks": {"filing_password_verified": True, "identity_verified": True},
    "materials": [{"kind": "uscc_certificate", "filename": "license.jpg", "sha256": "a" * 64, "size": 123456},
                  {"kind": "principal_id", "filename": "id.jpg", "sha256": "b" * 64, "size": 65432}],
    "original_filing": {"subject_name": "杭州云栈科技有限公司", "certificate_number": "91330106MA2B3C4D5D",
                        "website_name": "云栈科技官网", "domains": ["yunzhan.cn"], "principal_name": "张伟"},
}


def order_body_schema() -> dict:
    """The order body (DESIGN.md, "Order body"), nested as the portal sends it."""
    root: dict = {"type": "object", "properties": {}, "required": ["order_no", "kind", "submitted_at"]}
    for field in SCALAR_FIELDS:
        node = root
        *parents, leaf = field.path.split(".")
        for part in parents:
            node = node["properties"].setdefault(part, {"type": "object", "properties": {}, "required": []})
        node["properties"][leaf] = _scalar_schema(field)
        if field.required:
            node["required"].append(leaf)
    root["properties"].update({
        "order_no": {"type": "string", "pattern": ORDER_NO_RE.pattern, "description": "订单号"},
        "kind": {"type": "string", "enum": [k.value for k in Kind], "description": "备案类型"},
        "submitted_at": {"type": "string", "format": "date-time",
                         "description": "提交时间，ISO-8601，带时区，2000–2099 年"},
        "materials": {"type": "array", "maxItems": MAX_MATERIALS, "items": {
            "type": "object", "required": ["kind", "filename", "sha256", "size"],
            "properties": {"kind": {"type": "string", "minLength": 1, "maxLength": 200},
                           "filename": {"type": "string", "minLength": 1, "maxLength": 200},
                           "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                           "size": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
                           "url": {"type": "string", "maxLength": 500}}}},
        "original_filing": {"type": "object", "properties": {
            key: ({"type": "array", "items": {"type": "string"}} if key == "domains"
                  else {"type": "string", "maxLength": 200}) for key in ORIGINAL_FILING_KEYS}},
    })
    root["properties"]["website"]["properties"]["domains"] = {
        "type": "array", "minItems": 1, "maxItems": MAX_DOMAINS,
        "items": {"type": "string", "minLength": 1, "maxLength": 253}, "description": "网站域名"}
    root["properties"]["website"]["required"].append("domains")
    for section in ("subject", "website", "principal"):
        root["required"].append(section)
    return root


PROGRESS = {
    "type": "object",
    "required": ["order_no", "kind", "province", "state", "state_label", "version", "submitted_at",
                 "stage_entered_at", "due_at", "due_estimated", "history", "result", "findings"],
    "properties": {
        "order_no": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in Kind]},
        "province": {"type": "string"},
        "state": {"type": "string", "enum": [s.value for s in State]},
        "state_label": {"type": "string"},
        "version": {"type": "integer", "minimum": 1},
        "submitted_at": {"type": "string", "format": "date-time"},
        "stage_entered_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "due_estimated": {"type": "boolean"},
        "history": {"type": "array", "items": {
            "type": "object", "required": ["at", "action", "from", "to", "reasons", "note"],
            "properties": {"at": {"type": "string", "format": "date-time"}, "action": {"type": "string"},
                           "from": {"type": ["string", "null"]}, "to": {"type": "string"},
                           "reasons": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"}}}},
        "result": {"type": ["object", "null"], "required": ["outcome"], "properties": {
            "outcome": {"type": "string"}, "filing_number": {"type": ["string", "null"]},
            "reasons": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"}}},
        "findings": {"type": "array", "items": {
            "type": "object", "required": ["check", "severity", "field", "message"],
            "properties": {"check": {"type": "string"}, "severity": {"enum": ["error", "warning"]},
                           "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
ERROR = {
    "type": "object", "required": ["error", "message", "fields"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}},
}


def _responses(ok: dict[str, str], errors: tuple[str, ...]) -> dict:
    out = {status: {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Progress"}}}} for status, text in ok.items()}
    for status in errors:
        out[status] = {"description": ERROR_STATUSES[status], "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
    return out


def _order_no_parameter() -> dict:
    return {"name": "order_no", "in": "path", "required": True, "schema": {"type": "string"}}


def _body(schema_ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


EVENT = {
    "type": "object", "required": ["id", "type", "order_no", "sequence", "at", "data"],
    "properties": {
        "id": {"type": "string", "description": "事件 ID（也是 X-Console-Event-Id）；重复投递时不变，用于去重"},
        "type": {"type": "string", "enum": list(EVENT_TYPE_CODES)},
        "order_no": {"type": "string"},
        "sequence": {"type": "integer", "minimum": 1, "description": "此订单的第几个事件；同一订单按此顺序投递"},
        "at": {"type": "string", "format": "date-time"},
        "data": {"type": "object", "required": ["state", "text"], "properties": {
            "state": {"type": "string", "description": "事件发生后订单的状态"},
            "text": {"type": "string", "description": "给申请人的消息（主管编辑的模板渲染而成），可直接展示或发送"},
            "due_at": {"type": "string", "format": "date-time"},
            "due_estimated": {"type": "boolean"},
            "reasons": {"type": "array", "items": {"type": "object", "required": ["code", "label"], "properties": {
                "code": {"type": "string"}, "label": {"type": "string"}}}},
            "note": {"type": "string", "description": "给申请人的说明（驳回、资料核对不通过、短信核验失败、管局驳回）"},
            "filing_number": {"type": "string", "description": "管局审核通过时的网站备案号"},
        }},
    },
}
FEED = {
    "type": "object", "required": ["events", "next"],
    "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                   "next": {"type": "string", "description": "下次请求的 after；没有新事件时与本次相同"}},
}
WEBHOOK_HEADERS = {
    "X-Console-Event-Id": "事件 ID（与正文 id 相同）",
    "X-Console-Timestamp": "发送时间（Unix 秒）；拒绝与当前时间相差超过 5 分钟的请求可防重放",
    "X-Console-Signature": "sha256=<HMAC-SHA256(密钥, 时间戳 + \".\" + 原始正文) 的十六进制>；轮换密钥期间有两个，以逗号分隔，任一匹配即可",
}


def _webhooks() -> dict:
    """One webhook per event type (OpenAPI 3.1 ``webhooks``): the same Event body, signed."""
    parameters = [{"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
                  for name, text in WEBHOOK_HEADERS.items()]
    return {code: {"post": {
        "summary": EVENT_LABELS[code], "operationId": "event_" + code.replace(".", "_"), "parameters": parameters,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Event"},
                      {"type": "object", "properties": {"type": {"const": code}}}]}}}},
        "responses": {"2XX": {"description": "已收到（其他状态会重试；410 会停用此接收地址）"}}}}
        for code in EVENT_TYPE_CODES}


def document() -> dict:
    """The whole OpenAPI 3.1 document."""
    order_ops = {
        "/orders/{order_no}/abandon": ("放弃备案（初审通过前、管局驳回后）", "abandonOrder"),
        "/orders/{order_no}/revoke": ("撤销备案（初审通过前、管局驳回后）", "revokeOrder"),
    }
    paths: dict = {
        "/orders": {"post": {
            "operationId": "submitOrder", "summary": "提交订单：进入初审；同一订单号幂等",
            "requestBody": _body("#/components/schemas/OrderBody"),
            "responses": _responses({"201": "已创建", "200": "同一内容重复提交，返回原订单"},
                                    ("400", "401", "409", "413", "422"))}},
        "/orders/{order_no}": {"get": {
            "operationId": "getOrder", "summary": "进度：状态、截止时间、历史、结果、当前检查结果",
            "parameters": [_order_no_parameter()],
            "responses": _responses({"200": "订单进度"}, ("401", "404"))}},
        "/orders/{order_no}/resubmit": {"post": {
            "operationId": "resubmitOrder", "summary": "退回或管局驳回后重新提交",
            "parameters": [_order_no_parameter()], "requestBody": _body("#/components/schemas/OrderBody"),
            "responses": _responses({"200": "已重新进入初审"}, ("400", "401", "404", "409", "413", "422"))}},
        "/orders/{order_no}/sms-verified": {"post": {
            "operationId": "smsVerified", "summary": "短信核验已完成",
            "parameters": [_order_no_parameter()], "requestBody": _body("#/components/schemas/SmsVerified"),
            "responses": _responses({"200": "已提交管局审核"}, ("400", "401", "404", "409", "413", "422"))}},
    }
    paths["/events"] = {"get": {
        "operationId": "listEvents", "summary": "事件流：按发生顺序列出事件（不能接收 Webhook 时使用）",
        "parameters": [
            {"name": "after", "in": "query", "required": False, "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
             "description": "上次响应的 next；首次省略或为 0"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
        "responses": {"200": {"description": "事件", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Feed"}}}},
            **{status: {"description": ERROR_STATUSES[status], "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}} for status in ("401", "422")}}}}
    for path, (summary, operation) in order_ops.items():
        paths[path] = {"post": {"operationId": operation, "summary": summary, "parameters": [_order_no_parameter()],
                                "responses": _responses({"200": "已终止"}, ("401", "404", "409"))}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "备案审核台 · 申请端 API", "version": "1",
                 "description": "Bearer 令牌（管理员在「用户与令牌」页创建）。错误一律为 Error 对象。"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "webhooks": _webhooks(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "OrderBody": {**order_body_schema(), "examples": [EXAMPLE_BODY]},
                "SmsVerified": {"type": "object", "required": ["verified_at"], "properties": {
                    "verified_at": {"type": "string", "format": "date-time"}}},
                "Progress": PROGRESS,
                "Event": EVENT,
                "Feed": FEED,
                "Error": ERROR,
            },
        },
    }
