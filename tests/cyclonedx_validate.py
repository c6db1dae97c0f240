"""Validates a CycloneDX 1.6 JSON document (argv[1]) with CycloneDX's own library.

Exit 0 when valid, 1 with the errors when not, 3 when cyclonedx-python-lib (with its
`json-validation` extra) is not installed.
"""
import sys

try:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    import jsonschema  # noqa: F401  (the json-validation extra)
except ImportError as e:
    print(f"cyclonedx-python-lib[json-validation] is not installed: {e}", file=sys.stderr)
    sys.exit(3)

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
if error is not None:
    print(f"invalid CycloneDX 1.6: {error!r}", file=sys.stderr)
    sys.exit(1)
print("valid")
