"""Grids (网格): the versioned hierarchy street > second > third > micro, plus dedicated grids."""
