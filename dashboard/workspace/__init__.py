"""The DuckDB workspace: one file per dataset (schema, connections, sealing), Parquet export."""
