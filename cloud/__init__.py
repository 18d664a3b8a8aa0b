"""The same game, serverless: Lambda handlers behind API Gateway over the core (see docs/cloud.md).

`handlers/` are thin entry points; the modules here do the work: `games` loads what a command needs,
applies the core's one door and commits with conditions; `connections` keeps the sockets in the
single table; `delivery` posts to them; `deadlines` is the timer; `sockets` and `routes` speak the
protocol of docs/protocol.md. Imports only the core and boto3, never `web`.
"""
