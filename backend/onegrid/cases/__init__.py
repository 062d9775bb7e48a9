"""Cases (案件): reported problems, each assigned to one grid per level."""
