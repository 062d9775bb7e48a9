"""Enterprise service (万人助万企): visits, the problems raised, and visit coverage."""
