"""Kindred forum: communities, people and content."""
