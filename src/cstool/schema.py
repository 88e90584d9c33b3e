"""The customer record: each field's type, bounds and header aliases, declared once.

The column-wise validator (validate.py) reads these declarations; pydantic itself
explains failing rows and hands library users validated `Customer` objects.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

EMAIL_PATTERN = r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+"

FieldKind = Literal["id", "text", "email", "score", "money", "date", "int"]

# What kind of cell each field holds; the validator dispatches on this.
KIND: dict[str, FieldKind] = {
    "customer_id": "id",
    "name": "text",
    "email": "email",
    "plan": "text",
    "stage": "text",
    "tags": "text",
    "notes": "text",
    "value_delivery": "score",
    "issue_resolution": "score",
    "growth_strategy": "score",
    "mrr": "money",
    "signup_date": "date",
    "last_contact": "date",
    "renewal_date": "date",
    "nps": "int",
    "open_tickets": "int",
}

SCORE_INPUTS = ("value_delivery", "issue_resolution", "growth_strategy")

# Health bands, worst first; a customer without health has no band (<NA>).
BANDS = ("red", "yellow", "green")

ScoredKind = Literal["number", "date", "band", "text"]

# Every column scoring.score adds, in its order, and what it holds (the rule language's
# types for them are derived from here).
SCORED_KIND: dict[str, ScoredKind] = {
    "satisfaction_from_value_delivery": "number",
    "satisfaction_from_issue_resolution": "number",
    "satisfaction_from_growth_strategy": "number",
    "satisfaction": "number",
    "last_touch": "date",
    "days_since_touch": "number",
    "recency_score": "number",
    "nps_score": "number",
    "support_score": "number",
    "health_from_satisfaction": "number",
    "health_from_recency": "number",
    "health_from_nps": "number",
    "health_from_support": "number",
    "health": "number",
    "health_coverage": "number",
    "band": "band",
}

# The columns the lifecycle step adds (cstool.lifecycle), with their kinds.
LIFECYCLE_KIND: dict[str, ScoredKind] = {
    "status": "text",
    "churn_date": "date",
    "cancel_date": "date",
}

# cstool's columns appended to enriched CSVs and JSON, in this order (when present).
ENRICHED = (
    "satisfaction",
    "health",
    "health_coverage",
    "band",
    "segment",
    "cadence_days",
    "play",
    "last_touch",
    "days_since_touch",
    "status",
    "churn_date",
    "cancel_date",
)
DATE_FIELDS = ("signup_date", "last_contact", "renewal_date")


class Customer(BaseModel):
    """One customer row after validation (score inputs on the configured input scale)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    customer_id: Annotated[str, Field(min_length=1)]
    # the three satisfaction inputs: all three or none (the validator checks the group)
    value_delivery: float | None = None
    issue_resolution: float | None = None
    growth_strategy: float | None = None
    name: str | None = None
    email: Annotated[str | None, Field(pattern=f"^{EMAIL_PATTERN}$")] = None
    plan: str | None = None
    stage: str | None = None
    tags: str | None = None
    notes: str | None = None
    mrr: Annotated[float | None, Field(ge=0)] = None
    signup_date: date | None = None
    last_contact: date | None = None
    renewal_date: date | None = None
    nps: Annotated[int | None, Field(ge=0, le=10)] = None
    open_tickets: Annotated[int | None, Field(ge=0)] = None


REQUIRED: tuple[str, ...] = tuple(
    name for name, info in Customer.model_fields.items() if info.is_required()
)
FIELDS: tuple[str, ...] = tuple(Customer.model_fields)


def bounds(field: str) -> tuple[float | None, float | None]:
    """The (ge, le) bounds pydantic declares for a field, read from its metadata."""
    lo: float | None = None
    hi: float | None = None
    for meta in Customer.model_fields[field].metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return lo, hi


# Header spellings that map to each field, beside the field's own name. Matching ignores
# case and separators, so `Customer_ID`, `customer id` and `customer-id` are all one.
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "id",
        "customer",
        "customer no",
        "customer number",
        "client id",
        "account id",
        "account number",
        "客户ID",
        "客户编号",
        "客户号",
        "编号",
    ),
    "name": (
        "customer name",
        "client name",
        "account name",
        "company",
        "company name",
        "account",
        "client",
        "客户名称",
        "客户名",
        "名称",
        "公司",
        "公司名称",
        "姓名",
    ),
    "email": ("e-mail", "email address", "mail", "contact email", "邮箱", "电子邮件", "邮件"),
    "plan": ("tier", "subscription", "package", "product", "套餐", "计划", "方案"),
    "stage": ("lifecycle stage", "lifecycle", "status", "阶段", "生命周期", "状态"),
    "tags": ("labels", "tag", "标签"),
    "notes": ("note", "comments", "comment", "remarks", "备注", "说明"),
    "value_delivery": ("value", "value score", "价值交付", "价值"),
    "issue_resolution": ("resolution", "support score", "issue score", "问题解决"),
    "growth_strategy": ("growth", "growth score", "增长战略", "增长策略", "增长"),
    "mrr": (
        "monthly revenue",
        "monthly recurring revenue",
        "revenue",
        "mrr usd",
        "arr monthly",
        "月收入",
        "月经常性收入",
        "月度收入",
        "收入",
    ),
    "signup_date": (
        "signup",
        "signed up",
        "sign up date",
        "created",
        "created at",
        "start date",
        "customer since",
        "joined",
        "注册日期",
        "签约日期",
        "开始日期",
    ),
    "last_contact": (
        "last contacted",
        "last contact date",
        "last touch",
        "last touched",
        "last activity",
        "最后联系",
        "最近联系",
        "最后联系日期",
        "最近联系日期",
    ),
    "renewal_date": (
        "renewal",
        "renews on",
        "renewal due",
        "contract end",
        "contract end date",
        "续约日期",
        "续费日期",
        "到期日期",
        "续约",
    ),
    "nps": ("nps score", "net promoter score", "nps answer", "净推荐值"),
    "open_tickets": (
        "tickets",
        "open issues",
        "open support tickets",
        "support tickets",
        "未结工单",
        "工单",
    ),
}
