"""cloud-local: a small local API Gateway and Lambda for the serverless stack, a test double of AWS.

It reads the real CloudFormation templates (routes, integrations, functions' `Handler` and environment),
runs the handlers in this process against moto's DynamoDB and SQS, and speaks WebSocket to browsers. It is
test tooling, not a way to host games: production runs on the real API Gateway. See docs/cloud-local.md.
"""
