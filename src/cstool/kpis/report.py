"""The report as data: plain dicts, lists and numbers (kpis.json), no formatting for people.

`report_data` is what a library user or a JSON consumer reads; `report_json` writes it with a
stable key order and full precision. Rendering (tables, HTML, charts) lives in `cstool.render`.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from cstool.kpis.definitions import BANDS, CHANGE_KPIS, KPIS, LEVEL_KPIS
from cstool.kpis.movements import COHORT_COLUMNS, MOVEMENT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from cstool.config import Settings
    from cstool.kpis.goals import GoalProgress
    from cstool.kpis.portfolio import Portfolio

LISTINGS = ("moved", "new", "churned")
# Frames written one JSON object per row by pandas' C encoder.
FRAME_KEYS = (*LISTINGS, "movements", "cohorts")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _frame_lines(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row (dates as ISO days, missing as null), no Python call per row."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
        elif isinstance(out[name].dtype, pd.Float64Dtype):
            out[name] = out[name].astype("float64")  # <NA> → NaN → null
    text = out.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    return text.splitlines()


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    return [json.loads(line) for line in _frame_lines(frame)]


def _kpi_value(name: str, value: float | None) -> float | int | None:
    """Counts as integers in JSON (`200`, not `200.0`); everything else as it is."""
    if value is not None and name in KPIS and KPIS[name].kind == "count":
        return round(value)
    return value


def _goal_record(goal: GoalProgress) -> dict[str, Any]:
    return {
        "name": goal.name,
        "metric": goal.metric,
        "baseline": goal.baseline,
        "baseline_date": goal.baseline_date.isoformat() if goal.baseline_date else None,
        "current": goal.current,
        "target": goal.target,
        "deadline": goal.deadline.isoformat(),
        "progress": goal.progress,
        "projected": goal.projected,
        "status": goal.status,
        "on_track": goal.on_track,
        "days_left": goal.days_left,
    }


def report_data(result: Portfolio, settings: Settings) -> dict[str, Any]:
    """Everything the report shows, as plain JSON-ready data (missing as None).

    `movements` holds the monthly periods (`movements_by_period` all of them: week, month,
    quarter), each a dict with the fields of `kpis.MOVEMENT_COLUMNS`, dates as ISO strings;
    `cohorts` the rows of `kpis.cohorts`.
    """
    data = _report_frames(result, settings)
    for key in FRAME_KEYS:
        data[key] = _records(data[key])
    data["movements_by_period"] = {
        period: _records(frame) for period, frame in data["movements_by_period"].items()
    }
    return data


def _report_frames(result: Portfolio, settings: Settings) -> dict[str, Any]:
    """report_data with the listings, movements and cohorts left as frames (or None)."""
    names = list(LEVEL_KPIS) + list(CHANGE_KPIS)
    previous = result.previous
    change: dict[str, float | None] = {}
    for name in names:
        now = result.kpis.get(name)
        then = previous.get(name) if previous else None
        change[name] = _kpi_value(
            name, now - then if now is not None and then is not None else None
        )
    comparison = result.comparison
    migrations = None
    if comparison is not None:
        counts = comparison.migrations.to_numpy().tolist()
        migrations = {
            a: {b: int(counts[i][j]) for j, b in enumerate(BANDS)} for i, a in enumerate(BANDS)
        }
    trend = [
        {
            "as_of": day.isoformat(),
            **{k: _kpi_value(k, _number(row[k])) for k in result.trend.columns},
        }
        for day, row in zip(result.trend.index, result.trend.to_dict("records"), strict=True)
    ]
    by_period = {
        period: frame[list(MOVEMENT_COLUMNS)] for period, frame in result.movements.items()
    }
    cohorts = result.cohorts[list(COHORT_COLUMNS)] if result.cohorts is not None else None
    return {
        "as_of": result.as_of.isoformat(),
        "compared_with": result.compared_with.isoformat() if result.compared_with else None,
        "satisfied_threshold": settings.kpis.satisfied_threshold,
        "skipped_rows": result.skipped_rows,
        "kpis": {name: _kpi_value(name, result.kpis.get(name)) for name in names},
        "previous": (
            {name: _kpi_value(name, previous.get(name)) for name in names} if previous else None
        ),
        "change": change,
        "band_migrations": migrations,
        **{key: getattr(comparison, key) if comparison else None for key in LISTINGS},
        "goals": [_goal_record(g) for g in result.goals],
        "trend": trend,
        "movements": by_period.get("month"),
        "movements_by_period": by_period,
        "cohorts": cohorts,
    }


def report_json(result: Portfolio, settings: Settings) -> str:
    """kpis.json: the report's data, stable key order, full precision, null for missing.

    Indented like `json.dumps(indent=2)`, except that each item of a list sits on one line:
    as readable, and C encoders do the work (a 100k-customer list takes ~0.1 s, not 1 s).
    """

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    def items(lines: list[str], indent: str = "  ") -> str:
        inner = indent + "  "
        return "[\n" + inner + f",\n{inner}".join(lines) + "\n" + indent + "]" if lines else "[]"

    parts = []
    for key, value in _report_frames(result, settings).items():
        if key in FRAME_KEYS:
            text = items(_frame_lines(value) if value is not None and len(value) else [])
        elif key == "movements_by_period":
            inner = [
                f"    {dump(period)}: {items(_frame_lines(frame) if len(frame) else [], '    ')}"
                for period, frame in value.items()
            ]
            text = "{\n" + ",\n".join(inner) + "\n  }" if inner else "{}"
        elif isinstance(value, list):
            text = items([dump(item) for item in value])
        elif isinstance(value, dict):
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2)
            text = text.replace("\n", "\n  ")
        else:
            text = dump(value)
        parts.append(f"  {dump(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
