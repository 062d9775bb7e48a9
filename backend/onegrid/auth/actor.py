"""The acting person as services see it: a name, a role and the unit they belong to."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = {
    "street_admin": "街道管理员",
    "street_dispatcher": "街道派单员",
    "community_staff": "社区工作人员",
    "grid_leader": "网格长",
    "grid_worker": "网格员",
    "department_handler": "部门处置人员",
    "property_staff": "物业公司人员",
    "gis_editor": "GIS编辑",
    "auditor": "审计(只读)",
    "resident": "居民",
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    unit_code: str | None = None  # department or property company they act for
    grid_code: str | None = None  # community or grid whose subtree they look after
    user_id: int | None = None  # the account; None for the command line
    client: str | None = None  # the address the request came from, for the audit log
