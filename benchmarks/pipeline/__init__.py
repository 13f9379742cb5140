"""The whole-pipeline benchmark's parts; ``benchmarks/bench_pipeline.py`` runs them."""
