"""Blind listening tests without Qt: designs, storage, session flow, statistics, exports and bundles."""
