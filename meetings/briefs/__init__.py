"""A meeting's brief: the figures as of a moment (snapshot), rendered as a PDF and an XLSX annex."""
