"""Studies: many runs of the simulator answering one question (sweeps, sensitivity, reverse stress,
recommendations, precision targets). Every study runs through ``usdai_sim.executors``."""
