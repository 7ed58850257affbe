"""How credentials reach the readers: the kernel's environment variables (environment), or a
loopback credential endpoint the environment points at (endpoint_delivery: routes, tokens and
token files; endpoint: the kernel's handle on server, the credential server, a process of its own);
``switch.DeliverySwitch`` is what the manager holds, and moves live credentials between the two.
``writes`` is the one way the process environment is written (Python and C, as one step, freeing
nothing a native thread may read). Imports only from ``model`` and ``base``."""
