"""Using the credentials directly, without an SDK: SigV4-signed requests and presigned S3 URLs
(signing), and a console sign-in link (console). Independent of ``followers``."""
