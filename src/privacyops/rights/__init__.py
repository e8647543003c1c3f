"""Rights requests: jurisdiction rules now; intake, workflow, deadlines and appeals to come."""
