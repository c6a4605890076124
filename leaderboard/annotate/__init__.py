"""The annotation page: a static, offline page that collects human labels on a run's results.

``editbench annotate RUN... --out DIR`` calls :func:`build_annotation_page`; the page's exports are
read by :mod:`bench.labels` and turned into a calibration report by :mod:`judges.calibration`.
"""

from leaderboard.annotate.page import build_annotation_page

__all__ = ["build_annotation_page"]
