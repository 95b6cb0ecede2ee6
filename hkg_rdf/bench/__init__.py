"""HuggingBench from the store: export the three test collections, score predictions on them,
run CPU baselines, and report statistics and scores (see README, section HuggingBench)."""
