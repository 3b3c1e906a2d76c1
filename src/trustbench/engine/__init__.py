"""The run engine: scheduler, response cache, run pipeline and run directory."""
