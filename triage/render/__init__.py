"""Renderers: one module per output format. They only render; they never judge."""
