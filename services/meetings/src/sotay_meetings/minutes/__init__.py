"""Minutes (biên bản): generated draft, edits, signature, download."""
