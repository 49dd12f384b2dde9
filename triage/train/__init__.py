"""Training of the learned parts: data made by code from real photos, fitted here.

``python -m triage.train NAME`` retrains one model and writes it, with its manifest,
under ``triage/data/models/``. Nothing is downloaded.
"""
