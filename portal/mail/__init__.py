"""E-mail: an outbox written in its cause's transaction, sent by the sender like deposits."""
