"""Evaluation of the QA pipeline: a gold dataset scorer, public benchmarks (CMRC 2018, RGB), speed and ablations.

Everything scores the CLI's answer JSON, so another system's answers are measured the same way.
"""
