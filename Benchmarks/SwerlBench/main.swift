print("swerl-bench: not yet")
