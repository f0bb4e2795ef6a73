"""Publishing to a Socrata-compatible portal: plan (a pure diff), apply (executes a plan).

Modules: :mod:`client` (the only sodapy user), :mod:`typemap` (Frictionless → Socrata),
:mod:`plan` (pure), :mod:`observe` (gathers both sides), :mod:`apply`, :mod:`manifest` (row
hashes kept on the portal), :mod:`run` (whole-program plan/apply), :mod:`log` (publish log).
"""
