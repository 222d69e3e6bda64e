"""RFM: customer measures, cut points and scores, segment schemes, the customer base, and the
studio analyses (explain, migration, backtest, sensitivity, clustering)."""
