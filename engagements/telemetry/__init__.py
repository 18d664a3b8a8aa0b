"""What both runtimes tell the people who run them: log lines with correlation ids (`context`, `logs`)
and the figures of `metrics`, named once here so the appliance's Prometheus endpoint and the cloud's
CloudWatch metrics say the same thing in the same words (docs/operations.md, docs/cloud.md).
"""
