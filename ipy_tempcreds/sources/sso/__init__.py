"""IAM Identity Center: where to sign in (config), the device sign-in and botocore's token cache
(device), its calls and their errors (calls), role credentials and the person's accounts (portal),
a sign-in in a thread for the panel (attempt) and the pre-cell notice of a lapsed one (watch)."""
