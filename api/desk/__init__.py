"""The editors' desk at /desk: sign in with a key, register sources, record events from forms
built from their schemas, preview what they change, correct, retract or dispute them."""
