"""A notebook-style walk through the Python API on the bundled demo cohort (run by tests/test_api.py).

Each block is a notebook cell: a DataFrame in, DataFrames out, the same answers as the command line.
"""

# %% Load the cohort as a feasibility analyst would: pandas, its own dtypes.
from pathlib import Path

import pandas as pd

import matcher

DEMO = Path(__file__).resolve().parent.parent / "scenarios" / "demo-cohort.csv"
cohort = pd.read_csv(DEMO)

# %% Who is eligible for which trial, and why not (in words, with the patient's values).
screened = matcher.screen(cohort, as_of="2026-11-23")
counts = screened.pivot_table(index="trial_id", columns="status", values="patient_id", aggfunc="count", fill_value=0)
print(counts)
print(screened.loc[screened["patient_id"] == "P036", ["trial_id", "status", "reason"]].to_string(index=False))

# %% For a patient not eligible yet: the nearest plan per trial, and from when.
plans = matcher.whatif(cohort, patient="P020", as_of="2026-11-23")
print(plans[["trial_id", "reachable", "earliest_date", "actions"]].to_string(index=False))

# %% The best allocation of everyone to the trials' slots, with how long each placement holds.
allocation = matcher.allocate(cohort, as_of="2026-11-23")
placed = allocation[allocation["status"] == "assigned"]
print(placed[["patient_id", "trial_id", "eligible_until"]].to_string(index=False))
assert len(placed) > 0
