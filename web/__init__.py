"""aiohttp front end of the Engagements appliance: HTTP server, QR codes and mDNS advertising."""
