"""The deterministic demo store (a coffee shop on Shopify), written as real export files.

``files.write_demo_files(out_dir, seed)`` simulates a coffee and homeware web shop that opens on
2024-11-01 and is exported on 2026-10-31, and writes five CSV files (see ``files.DemoFiles``). The
same seed always gives byte-identical files; nothing depends on today's date.

The store grows through the maturity stages in docs/acquisition.md §6 (a handful of sales a week
at first, about ten a day after half a year, 100+ a day at the end of year two), with weekly
seasonality and a Black Friday / December peak. About 20,000 people order about 60,000 times; most
buy once, a heavy tail of repeat buyers reorders on their own rhythm until they churn, each order
replenishing their favourite coffee bean (about every 30 days) and, for filter brewers, paper
filters (about every 90); docs/products.md "The demo store" lists the findings this plants. How
each order's acquisition channel is written is described in ``attribution``.

Modules, in the order the simulation uses them: ``catalogue`` (fixed data), ``timeline`` (dates,
seasons, time zones), ``people``, ``baskets``, ``attribution``, ``orders``, ``checkouts``; the
writers ``orders_export`` (with ``order_rows`` and ``columns``), ``customers``, ``sessions``,
``spend``; and ``files``, which runs them all.
"""
