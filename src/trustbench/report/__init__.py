"""Run reports (HTML / Markdown / JSON) and comparisons of runs."""
