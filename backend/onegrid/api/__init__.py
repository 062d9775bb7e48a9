"""HTTP plumbing shared by the routers: the session dependency and common parameters."""
