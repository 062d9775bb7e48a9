"""Places joined to grids: buildings, courtyards, merchants, enterprises, sites, resident units."""
