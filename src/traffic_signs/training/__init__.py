"""Training: the loop, checkpoints, curves.

``PRECISIONS`` lives here, torch-free, so the CLI can offer the choices without importing torch.
"""

PRECISIONS = ("auto", "fp32", "bf16")
