"""Identity's sensitive actions (logins, password changes, role changes, imports, transfers) go
to kit's hash-chained audit log in identity's database."""
