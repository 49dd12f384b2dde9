"""Evaluation harness: run the pipeline over a labeled manifest and measure it.

* :mod:`triage.evaluate.manifest` reads ``path, label[, mask]`` TSV/CSV files;
* :mod:`triage.evaluate.runner` analyzes them in worker processes with a per-file
  timeout and a memory limit, recording what each analyzer examined and found;
* :mod:`triage.evaluate.metrics` computes ROC AUC, band rates, interval coverage,
  per-finding likelihood ratios, reliability bins and localization IoU;
* :mod:`triage.evaluate.report` renders them as text, JSON, Markdown and a
  reliability diagram (PNG);
* :mod:`triage.evaluate.calibrate` fits a calibration file (:mod:`triage.calibration`)
  from labeled records.
"""
