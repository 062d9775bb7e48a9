"""Who is acting: users, roles and their scope (sign-in comes with accounts)."""
