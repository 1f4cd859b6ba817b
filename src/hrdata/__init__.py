"""hrdata: HR data from CSV (local or S3) into PostgreSQL, validated, with every reject logged."""

__version__ = "0.1.0"
