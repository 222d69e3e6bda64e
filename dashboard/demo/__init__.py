"""The deterministic demo store (a coffee shop on Shopify), written as real export files."""
