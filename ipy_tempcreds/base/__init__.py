"""The bottom layer: what every other layer may use and nothing above it is needed for.

Errors and the secret scrubbing of logs (logs; redaction: the secrets the process handled), the one home of other projects' private internals
(``compat``), consistent reads of the environment, the declaration of the options, AWS config
files, validation of every input, time wording, paths, and fresh locks after a fork. Imports
nothing from the package's other layers.
"""
