"""The studio web server: REST API, live streams and the page."""
