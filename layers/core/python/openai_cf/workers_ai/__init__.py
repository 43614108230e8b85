"""Everything that speaks Workers AI: the REST client, its error table, stream parsing, model knowledge."""
