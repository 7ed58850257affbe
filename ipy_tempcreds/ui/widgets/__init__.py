"""The panels: the role panel (role_panel, with its Identity Center part in sso_panel) and the
console link (console_link). Each is an anywidget: its synced traits hold no secret, and the
browser-side code (panel.js, panel_text.js, console_link.js, console_tab.js, panel.css) lives
beside it."""
