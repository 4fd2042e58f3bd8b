"""The customer-facing usage portal: scoped portal tokens, the portal settings of a tenant
and the reads a token may make (see README.md)."""
