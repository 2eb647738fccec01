"""The analysts' dashboard: one page, its static assets, and server-drawn SVG charts."""
