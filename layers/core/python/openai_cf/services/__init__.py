"""Services: one module per resource family. They know OpenAI's semantics, not HTTP."""
