"""A deterministic, synthetic demo street (丰产路街道, Zhengzhou Jinshui) for OneGrid.

No external data: every grid, place and case is generated from a seed, so demos, tests and
screenshots are reproducible and contain no real personal data.
"""
