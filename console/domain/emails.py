"""E-mail addresses checked by email-validator, with its reasons said in Chinese."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

#: email-validator's messages (by their start or a pattern) and what reviewers read instead.
_MESSAGES: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(pattern), text) for pattern, text in (
    (r"^An email address must have an @-sign", "缺少 @"),
    (r"^There must be something before the @-sign", "@ 前面没有内容"),
    (r"^There must be something after the @-sign", "@ 后面没有域名"),
    (r"cannot have two periods in a row", "不能有两个连续的句点"),
    (r"cannot start with a period", "不能以句点开头"),
    (r"period immediately before the @-sign", "@ 前面不能是句点"),
    (r"hyphen immediately after the @-sign", "@ 后面不能是连字符"),
    (r"It should have a period", "@ 后面的域名不完整（缺少句点）"),
    (r"bracketed IP address", "不接受 IP 地址形式的邮箱"),
    (r"unsafe characters", "含有不可见或不安全的字符"),
    (r"invalid characters before the @-sign", "@ 前面含有无效字符"),
    (r"after the @-sign contains invalid characters", "@ 后面的域名含有无效字符"),
    (r"too many|too long", "过长"),
    (r"special-use or reserved name", "域名是保留域名，不能用于真实邮箱"),
))


def email_problem(value: str) -> str | None:
    """Why ``value`` is not a usable e-mail address (Chinese), or None."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        said = str(exc)
        return next((text for pattern, text in _MESSAGES if pattern.search(said)), "格式不正确")
    return None


def normalised_email(value: str) -> str:
    """The address as email-validator normalises it (call after ``email_problem`` said None)."""
    return validate_email(value, check_deliverability=False).normalized
