"""REST API for meetings and briefs, mounted under /api/v1/ by coalition.api_urls."""
