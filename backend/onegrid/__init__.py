"""OneGrid (一网统管): grid management for a Chinese street office, on PostGIS."""

__version__ = "0.1.0"
