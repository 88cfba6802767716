"""The model's mathematics: the objective (loss, gradient, Hessian), penalties, the textbook API."""
