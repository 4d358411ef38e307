"""The accounting domain: amounts, entry lines and their JSON for OneConnect. No Flask here."""
