"""Moving finished games from the appliance to the cloud table."""
