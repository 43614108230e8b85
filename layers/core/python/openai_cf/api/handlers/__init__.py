"""Route handlers: parse the request model, call one service, return the response model."""
