"""Who does what where: responsibility lists (事项清单), the staff of each grid, and the grids
each unit serves."""
