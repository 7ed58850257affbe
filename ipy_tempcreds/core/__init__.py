"""The core: which credentials are in force and the only place that changes them (manager),
requests built and validated from what a user typed (request_builder), credentials obtained from
the sources with MFA codes, MFA sessions and chains (issuer), when to renew and the thread that does
it (renewal), what needs the user's attention (problems), the roles to offer (roles, recent), and
roles used beside the environment's (named_sessions), and grants kept for the processes started
with them while the kernel switches (pins). Imports no IPython, no ipywidgets: it is
usable and tested from plain Python."""
