#!/usr/bin/env python3
"""A week of one-minute samples of 20 series (errors by job and instance) for the backtest
benchmarks: job j0 bursts to 10 for 20 minutes every 6 hours, the others wave around 1.

usage: backtest_data.py openmetrics START END   (for promtool tsdb create-blocks-from openmetrics)
       backtest_data.py unittest                (a rule unit test over the same week from 0,
                                                 testing at 7d - 30m, where no alert is expected)
"""
import math
import sys

SERIES = [(job, inst) for job in range(4) for inst in range(5)]


def value(job, inst, t, start):
    if job == 0 and (t - start) % 21600 < 1200:
        return 10.0
    return 1.0 + math.sin(t / 3600 + inst) * 0.5


def openmetrics(start, end):
    print("# TYPE errors gauge")
    for t in range(start, end + 1, 60):
        for job, inst in SERIES:
            print(f'errors{{job="j{job}",instance="i{inst}"}} {value(job, inst, t, start)} {t}')
    print("# EOF")


def unittest():
    print("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  input_series:")
    for job, inst in SERIES:
        vals = " ".join(repr(value(job, inst, 60 * i, 0)) for i in range(7 * 1440 + 1))
        print(f"  - series: 'errors{{job=\"j{job}\",instance=\"i{inst}\"}}'\n    values: '{vals}'")
    print("  alert_rule_test:\n  - eval_time: 10050m\n    alertname: ManyErrors\n    exp_alerts: []")


if sys.argv[1] == "openmetrics":
    openmetrics(int(sys.argv[2]), int(sys.argv[3]))
else:
    unittest()
