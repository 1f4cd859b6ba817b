"""Rows in: migrations of CSV files (local, gzip or S3) and API batches, every reject logged.

    migrate.py   a run: its sources resolved, each file loaded in dependency order, a summary
    sources.py   files, folders and s3:// URIs as sources, each named for its table
    roots.py     the folders and buckets the API may read from (HRDATA_SOURCE_ROOTS)
    loader.py    one file into its table by COPY, atomically, with its rejects
    batch.py     one API request's rows, written the same way
    jsonbody.py  strict JSON for request bodies
    runs.py      load_runs and load_run_files: what each run and file did
    rejects.py   rejected_rows and pending_reject_logs: every reject stored and published
    stored.py    the rows a table holds, read back page by page
    validate.py  (inside) rows checked against the dictionary, every reason collected
    idset.py     (inside) the ids of a table, as a set or a bitmap

Other rooms import the modules named in __all__.
"""

__all__ = [
    "batch",
    "jsonbody",
    "loader",
    "migrate",
    "rejects",
    "roots",
    "runs",
    "sources",
    "stored",
]
