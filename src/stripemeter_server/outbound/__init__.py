"""Outbound HTTP that a tenant can aim: checked, resolved once and pinned (ADR 0700)."""
