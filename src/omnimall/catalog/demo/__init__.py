"""Demo data for ``omnimall manage load_demo`` and the benchmarks."""
