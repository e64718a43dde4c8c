"""Shared pieces every feature uses: audit, permissions, events, jobs, storage, money, errors."""
