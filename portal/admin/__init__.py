"""The admin console: users, organizations and integrations, staff, webhooks, the audit log."""
