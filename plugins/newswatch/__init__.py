"""newswatch: monitor news coverage of US–China diplomacy.

The pipeline as a plain package, one module per stage of the data flow:
config -> fetch -> parse -> normalize -> relevance -> dedupe -> warehouse,
orchestrated by pipeline.py (used by the Airflow DAGs and the `newswatch` CLI).
"""

__version__ = "0.1.0"
