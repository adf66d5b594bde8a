"""Writes for the exchange meetings, one module per concern: roster (import, center list),
grouping (propose, move, approve), rooms, invitations, survey. Every write is audited."""
