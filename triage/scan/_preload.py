"""Imported once by the scan's forkserver so that each worker starts warm."""

from triage.scan.runner import warm_up

warm_up()
