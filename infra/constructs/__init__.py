"""One construct per capability: endpoint functions, the shared layer, the REST API, the secret."""
