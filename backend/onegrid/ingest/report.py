"""What an import did, or would do: counts, the CRS, every rejected row and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onegrid.errors import Rejection


@dataclass
class ImportReport:
    kind: str  # "grids:third", "places:building", "cases"
    source: str
    crs: str
    committed: bool = False
    commit_requested: bool = False
    read: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def reject(
        self,
        index: int,
        reason: str,
        *,
        field: str | None = None,
        code: str | None = None,
        row: int | None = None,
    ) -> None:
        self.rejected.append(Rejection(index=index, reason=reason, field=field, code=code, row=row))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "crs": self.crs,
            "committed": self.committed,
            "read": self.read,
            "accepted": self.accepted,
            "rejected_count": len(self.rejected),
            "rejected": [
                {
                    "index": r.index,
                    "row": r.row,
                    "code": r.code,
                    "field": r.field,
                    "reason": r.reason,
                }
                for r in self.rejected
            ],
            "warnings": self.warnings,
            "summary": self.summary,
        }

    def lines(self, max_rejections: int | None = None) -> list[str]:
        """Human-readable report, as the CLI prints it."""
        if self.committed:
            verb = "Imported"
        elif self.commit_requested:
            verb = "Nothing written, rows were rejected (--skip-rejected writes the others)"
        else:
            verb = "Dry run (nothing written; add --commit to write)"
        out = [
            f"{verb}: {self.kind} from {self.source}",
            f"  CRS: {self.crs}",
            f"  read: {self.read}  accepted: {self.accepted}  rejected: {len(self.rejected)}",
        ]
        out += [f"  {k}: {v}" for k, v in self.summary.items()]
        shown = self.rejected if max_rejections is None else self.rejected[:max_rejections]
        if shown:
            out.append("  rejected:")
            out += [f"    {r.describe()}" for r in shown]
            if len(shown) < len(self.rejected):
                out.append(
                    f"    ... and {len(self.rejected) - len(shown)} more (use --report FILE)"
                )
        if self.warnings:
            out.append("  warnings:")
            out += [f"    {w}" for w in self.warnings]
        return out
