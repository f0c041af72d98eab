"""Cloud products an access filing can point at: where an instance may be for a filing.

An ICP filing covers servers in mainland China. Regions are identified as the portal reports
them (the provider's region ids); this list is the data the 产品验证 check reads.
"""

from __future__ import annotations

#: Regions in mainland China (an instance there may serve a filed website).
MAINLAND_REGIONS: frozenset[str] = frozenset({
    "cn-beijing", "cn-shanghai", "cn-hangzhou", "cn-shenzhen", "cn-qingdao", "cn-zhangjiakou",
    "cn-huhehaote", "cn-wulanchabu", "cn-chengdu", "cn-heyuan", "cn-guangzhou", "cn-nanjing",
    "cn-fuzhou", "cn-wuhan", "cn-zhengzhou", "cn-xian", "cn-chongqing", "cn-tianjin", "cn-shijiazhuang",
    "cn-hefei", "cn-nanchang", "cn-changsha", "cn-jinan", "cn-kunming", "cn-guiyang", "cn-nanning",
    "cn-haikou", "cn-lanzhou", "cn-xining", "cn-yinchuan", "cn-urumqi", "cn-lhasa", "cn-harbin",
    "cn-changchun", "cn-shenyang", "cn-taiyuan",
})
#: Regions outside the mainland that share the cn- prefix (a filing cannot point at them).
OUTSIDE_MAINLAND: frozenset[str] = frozenset({"cn-hongkong", "cn-macau", "cn-taipei"})


def region_problem(region: str) -> tuple[str, str] | None:
    """(severity, message) when an instance's region cannot serve a filed website, or None."""
    region = (region or "").strip().lower()
    if not region:
        return "warning", "未提供实例地域，无法核对实例是否在中国内地"
    if region in MAINLAND_REGIONS:
        return None
    if region in OUTSIDE_MAINLAND or not region.startswith("cn-"):
        return "error", f"实例地域 {region} 不在中国内地，不能用于接入备案"
    return "warning", f"未知地域 {region}：请确认实例位于中国内地"
