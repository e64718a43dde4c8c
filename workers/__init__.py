"""RQ job functions, one module per concern; `python -m workers` runs a worker."""
