"""Wire models, named after openai-python's types."""
