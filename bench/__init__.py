"""newswatch benchmark harness (`make bench` / `python -m bench`).

Measures the pipeline; never changes it. Everything it writes goes under bench/out/.
See bench/README.md for what each module does and how to read the report.
"""
