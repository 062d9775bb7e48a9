"""Enterprise service schemas: a visit as recorded, its problems, the quarterly coverage."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from onegrid.cases.schemas import CaseRead, Text


class ProblemCreate(BaseModel):
    """A problem the enterprise raised (企业诉求); it may become a case later."""

    model_config = ConfigDict(extra="forbid")

    description: Text = Field(min_length=1, max_length=2000)
    category_code: Text | None = Field(
        None, max_length=20, description="a case type (GET /api/categories), if known"
    )


class VisitCreate(BaseModel):
    """A visit to an enterprise (走访): when, by whom, what was discussed, problems raised."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: StrictInt = Field(ge=1, description="a place of kind enterprise")
    visited_on: date
    officer: Text = Field(min_length=1, max_length=100, description="who visited (包联干部)")
    discussed: Text = Field(min_length=1, max_length=5000)
    problems: list[ProblemCreate] = Field(default_factory=list, max_length=50)


class ProblemCaseCreate(BaseModel):
    """Turn a problem into a case (source enterprise_service, at the enterprise)."""

    model_config = ConfigDict(extra="forbid")

    category_code: Text | None = Field(
        None, max_length=20, description="default: the problem's own category"
    )
    urgent: StrictBool | None = None


class ProblemRead(BaseModel):
    id: int
    visit_id: int
    description: str
    category_code: str | None
    case_id: int | None
    case_status: str | None
    solved: bool = Field(description="its case is closed or evaluated")


class VisitRead(BaseModel):
    id: int
    enterprise_id: int
    enterprise_code: str | None
    enterprise_name: str | None
    community_code: str | None
    grid_code: str | None = Field(description="the third-level grid")
    visited_on: date
    officer: str
    discussed: str
    recorded_by: str
    recorded_at: datetime
    problems: list[ProblemRead]


class ProblemCaseRead(BaseModel):
    problem: ProblemRead
    case: CaseRead


class CoverageGroup(BaseModel):
    code: str | None
    name: str | None
    enterprises: int
    visited: int = Field(description="enterprises visited at least once in the quarter")
    visited_share: float | None
    problems_raised: int
    problems_solved: int


class OfficerCoverage(BaseModel):
    officer: str | None = Field(description="the service officer; null: enterprises without one")
    enterprises: int = Field(description="enterprises this officer serves (service_officer)")
    visited: int = Field(description="of those, visited at least once in the quarter")
    visited_share: float | None
    visits: int = Field(description="visits this officer recorded in the quarter")
    problems_raised: int = Field(description="problems raised in this officer's visits")
    problems_solved: int


class UnvisitedEnterprise(BaseModel):
    id: int
    code: str | None
    name: str | None
    service_officer: str | None
    key_tax_source: bool
    above_scale: bool
    community_code: str | None
    community_name: str | None
    grid_code: str | None
    grid_name: str | None
    last_visited_on: date | None = Field(description="the last visit before, if any")


class VisitCoverage(BaseModel):
    """走访覆盖 for one quarter: enterprises visited at least once, problems raised and solved."""

    quarter: str
    first_day: date
    last_day: date
    enterprises: int
    visited: int
    visited_share: float | None
    visits: int
    problems_raised: int
    problems_turned_into_cases: int
    problems_solved: int
    communities: list[CoverageGroup]
    grids: list[CoverageGroup]
    officers: list[OfficerCoverage]
    unvisited: list[UnvisitedEnterprise]
