"""The CDK app: `stacks/` compose, `constructs/` build one capability each, `constants.py` holds every number and name.

Run it from the repository root as a module (`python3 -m infra.app`, which is what cdk.json says): run as a
script, `infra/` would come first on sys.path and `infra/constructs` would shadow the `constructs` library.
"""
