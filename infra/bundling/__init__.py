"""Building the Lambda layers without Docker: CDK's local bundling calls these (see
infra/constructs/layers.py); `python -m infra.bundling` runs them by hand."""
