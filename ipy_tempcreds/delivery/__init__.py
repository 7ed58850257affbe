"""How credentials reach the readers: the kernel's environment variables (environment), or a
loopback credential endpoint the environment points at (endpoint, and its side of the switch);
``switch.DeliverySwitch`` is what the manager holds, and moves live credentials between the two.
``writes`` is the one way the process environment is written (Python and C, as one step, freeing
nothing a native thread may read). Imports only from ``model`` and ``base``."""
