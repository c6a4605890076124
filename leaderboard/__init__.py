"""The static leaderboard site, built from run stores alone: ``leaderboard.site.build_site``."""
