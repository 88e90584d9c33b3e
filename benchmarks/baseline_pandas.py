"""Baseline: plain vectorised pandas. `python benchmarks/baseline_pandas.py IN.csv OUT.csv`.

read_csv → satisfaction = 0.5·VD + 0.3·IR + 0.2·GS (inputs 0–10 → 0–100) → band by
50 / 75 on satisfaction (a stand-in for health) → to_csv. What a careful pandas user
writes without tuning: default C parser, DataFrame.to_csv.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

SCALE_MIN, SCALE_MAX = 0.0, 10.0


def enrich(frame: pd.DataFrame) -> pd.DataFrame:
    """Add satisfaction and band, column-wise."""

    def normalised(column: str) -> pd.Series:
        return (frame[column] - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * 100

    satisfaction = (
        0.5 * normalised("Value_Delivery")
        + 0.3 * normalised("Issue_Resolution")
        + 0.2 * normalised("Growth_Strategy")
    )
    band = np.select([satisfaction < 50, satisfaction < 75], ["red", "yellow"], "green")
    return frame.assign(satisfaction=satisfaction, band=band)


def main() -> None:
    """IN.csv OUT.csv."""
    if len(sys.argv) != 3:
        sys.exit("usage: baseline_pandas.py IN.csv OUT.csv")
    enrich(pd.read_csv(sys.argv[1])).to_csv(sys.argv[2], index=False)


if __name__ == "__main__":
    main()
