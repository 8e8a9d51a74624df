"""Training: the recipe, the loop, checkpoints, curves."""
