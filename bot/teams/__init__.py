"""Microsoft Teams adapter: everything that imports botbuilder lives in this folder, so a move to
Microsoft's successor SDK touches only here."""
