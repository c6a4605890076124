"""Learning the orchestrator from judged outcomes (paper A), and testing its approximations."""
