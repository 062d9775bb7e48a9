"""Resident reports (居民上报): report without an account, follow by a token given once."""
