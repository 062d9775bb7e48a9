"""Maps and figures made from the same GeoJSON the API serves."""
