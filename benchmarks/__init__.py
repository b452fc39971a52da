"""Benchmarks of usdai-sim: workloads, the per-agent mesa baseline, the random-number floor, the runner."""
