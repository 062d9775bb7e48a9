"""Units (责任单位): who handles cases, and the dispatch rules that choose them."""
