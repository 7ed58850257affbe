"""Plain data: what a user asks for (requests), what a source hands out and what is in force
(credentials, grants), the change event every follower receives, and the settings (traitlets).

Values are frozen and mask their secrets in every rendering. Imports only from ``base``.
"""
