"""Full-text search behind one small interface, fed by a durable outbox."""
