"""Charts: pandas DataFrame in, plotly figure out, one module per domain."""
