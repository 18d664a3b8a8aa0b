"""Deploying the cloud from this checkout: `engagements deploy` (deploy/command.py) and its parts.

The templates (`*.yaml`), the policy rules (`rules/`) and the Lambda package builder (`package.py`) live
beside it, and the wheel carries them: an installed appliance deploys a package built elsewhere
(`--package`); building one needs this repository's checkout.
"""
