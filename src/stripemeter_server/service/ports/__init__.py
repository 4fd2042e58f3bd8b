"""The ports the use cases depend on: repository and unit-of-work protocols, and the plain
records that cross the boundary. Storage adapters implement them; tests fake them."""
