"""What customers buy: bright spots, gateway products, replenishment cycles and basket affinity
(docs/products.md). Ibis only, so every analysis runs on DuckDB and Spark."""
