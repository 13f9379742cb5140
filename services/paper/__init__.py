"""The paper service."""
