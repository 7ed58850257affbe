"""The magics: parse the line, call the core, print one result. Nothing else lives here: how a
line becomes arguments, and how an error becomes one line, is ui/arguments.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument

from .. import _kernel
from ..base import options
from ..base.errors import TempCredsError
from . import mistyped
from .arguments import code_or_prompt, declared, magic_arguments, parse_line, parser_of, split_line, usage_errors

if TYPE_CHECKING:
    from ..core.manager import CredentialManager


# Options that describe a new assume; they make no sense with --status, --refresh or --clear.
_ASSUME_OPTIONS = tuple(o.dest for o in options.ROLE_REQUEST_OPTIONS) + ("no_auto_refresh", "dask", "pin")


def _default_dask_client():
    try:
        from ..followers.dask import current_client
    except ImportError:
        raise UsageError("--dask needs Dask: pip install 'dask[distributed]'.") from None
    return current_client()


def _dask_clusters(manager) -> list[str]:
    """The Dask clusters following ``manager``'s credentials, for the status table."""
    # Made only once sharing was asked for (it imports distributed): none made, none shared.
    sharings = _kernel.STATE.dask_sharings
    if sharings is None:
        return []
    return [sharing.address + (f" (last update failed: {sharing.last_error})" if sharing.last_error else "")
            for sharing in sharings.all() if sharing.active and sharing.manager is manager]


@magics_class
class TempCredsMagics(Magics):
    """%assume_role and %aws_whoami over one CredentialManager."""

    def __init__(self, shell, manager: CredentialManager | None = None):
        super().__init__(shell)
        self._manager = manager

    @property
    def manager(self) -> CredentialManager:
        """The manager given, else the kernel's (created by the first magic that needs it)."""
        if self._manager is not None:
            return self._manager
        _kernel.keep_modules()  # `%reset -f --aggressive` earlier in this cell: same manager
        from .. import api

        return api.get_manager()

    @magic_arguments()
    @argument("role", nargs="?", help="Role ARN, or an alias from TempCreds.roles. Without it: status.")
    @declared(options.ROLE_OPTIONS)
    @argument("--no-auto-refresh", action="store_true", help="Do not renew before expiry.")
    @argument("--dask", action="store_true", help="Also share the role with the Dask cluster of the default Dask client, and keep it current there (needs ipy_tempcreds[dask]).")
    @argument("--quiet", "-q", action="store_true", help="Print nothing on success.")
    @argument("--status", action="store_true", help="Show the active credentials (the default without ROLE).")
    @argument("--refresh", action="store_true", help="Renew now with the same parameters.")
    @argument("--clear", action="store_true", help="Stop, and restore the environment exactly as before.")
    @line_magic
    @usage_errors
    def assume_role(self, line: str = ""):
        """Assume an IAM role and put its temporary credentials into the kernel's environment.

        boto3, pandas/s3fs, `!aws` and subprocesses then use the role. The secret access key and
        session token are never printed.
        """
        args = parse_line(self.assume_role, line)
        if args is None:
            return None
        modes = [name for name in ("status", "refresh", "clear") if getattr(args, name)]
        if len(modes) > 1:
            raise UsageError(f"--{modes[0]} and --{modes[1]} cannot be combined.")
        mode = modes[0] if modes else ("assume" if args.role else "status")
        if mode != "assume":
            if args.role:
                raise UsageError(f"--{mode} takes no ROLE; to switch roles run `%assume_role ROLE`.")
            extra = [f"--{n.replace('_', '-')}" for n in _ASSUME_OPTIONS if getattr(args, n)]
            if extra:
                raise UsageError(f"{', '.join(extra)} only apply when assuming a role, not with --{mode}.")
            if args.mfa_code and mode != "refresh":
                raise UsageError(f"--mfa-code does not apply to --{mode}.")
        self._run(mode, args)

    def _run(self, mode: str, args) -> None:
        from . import display

        manager = self.manager
        if mode == "status":
            from ..core.cell_roles import CellRoles, active_scope  # the core: not imported by %load_ext

            scope = active_scope(manager)
            inside = display.cell_role_line(scope.label, CellRoles.of(manager).kernel_grant()) if scope else ""
            print(inside + display.status_text(manager.current(), manager.clock(), manager.problem, manager.renewal_due(),
                                      others=manager.named_sessions(), shared_with=_dask_clusters(manager),
                                      zone=manager.settings.time_zone, delivery=manager.environment.describe())
                  + display.pinned_text(manager.pins.all(), manager.clock(), manager.settings.time_zone))
        elif mode == "clear":
            had = manager.clear()
            base = manager.current()  # a role cleared over a console sign-in goes back to it
            if not args.quiet and base is not None:
                print(f"Released the role; the kernel is back on the console sign-in {base.arn} (%aws_login --logout ends it).")
            elif not args.quiet:
                print("Released the temporary credentials; the environment is as it was before."
                      if had else "No temporary credentials were active; nothing changed.")
        elif mode == "refresh":
            grant = manager.refresh(mfa_code=code_or_prompt(args.mfa_code))
            if not args.quiet:
                print(display.assumed_line(grant, manager.clock(), verb="Renewed", zone=manager.settings.time_zone))
        else:
            # Find the Dask client first: without one, nothing changes.
            dask_client = _default_dask_client() if args.dask else None
            request = manager.role_request(args.role, **options.request_options(options.ROLE_OPTIONS, args))
            grant = manager.activate(
                request, mfa_code=code_or_prompt(args.mfa_code),
                auto_refresh=False if args.no_auto_refresh else None, pin=args.pin,
            )
            if not args.quiet:
                print(display.assumed_line(grant, manager.clock(), zone=manager.settings.time_zone))
            if dask_client is not None:
                sharings = _kernel.dask_sharings()
                assert sharings is not None  # _default_dask_client found Dask
                try:
                    sharing = sharings.share_with(manager, dask_client)
                except TempCredsError as exc:
                    raise TempCredsError(f"{exc.args[0]} The role is active in the kernel; retry the sharing "
                                         "with ipy_tempcreds.share_with(client).", hint=exc.hint) from None
                if not args.quiet:
                    print(f"Shared with the Dask cluster at {sharing.address}; renewals, switches and "
                          "--clear follow there.")

    @magic_arguments()
    @argument("role", nargs="?", help="Role ARN, alias from TempCreds.roles or role profile to run the cell as.")
    @declared(options.ROLE_OPTIONS)
    @argument("--no-auto-refresh", action="store_true", help="Do not renew the role while the cell runs.")
    @cell_magic
    @usage_errors
    def as_role(self, line: str = "", cell: str = ""):
        """Run this cell as ROLE, then put the kernel's identity back exactly (also when the cell
        fails or is interrupted). The role's credentials are cached and renewed, so a loop of
        cells does not call STS each time."""
        args = parse_line(self.as_role, line)
        if args is None:
            return None
        from .cell_role import run_cell_as

        run_cell_as(self.shell, self.manager, args, cell)

    @magic_arguments()
    @argument("url", nargs="?", help="s3://bucket/prefix/ or s3://bucket/key to check.")
    @argument("--mfa", action="store_true", help="Also check roles that need an MFA code (asked for).")
    @declared((options.MFA_CODE,))
    @line_magic
    @usage_errors
    def aws_can(self, line: str = ""):
        """Which identity this kernel knows can read an S3 URL: the current one and each known role,
        with a harmless check (ListObjectsV2 MaxKeys=1 for a prefix, HeadObject for a key; never
        a write, never an object's body). The kernel's identity does not change."""
        args = parse_line(self.aws_can, line)
        if args is None:
            return None
        if not args.url:
            raise UsageError("%aws_can needs an S3 URL, e.g. `%aws_can s3://bucket/prefix/`.")
        from ..core.read_checks import check_all

        code = code_or_prompt(args.mfa_code) if args.mfa else None
        print(check_all(self.manager, args.url, mfa=args.mfa, mfa_code=code))

    @magic_arguments()
    @argument("name", nargs="?", help="Name of the federated user (2-32 characters of letters, digits and +=,.@_-).")
    @declared(options.FEDERATION_OPTIONS)
    @argument("--no-auto-refresh", action="store_true", help="Do not renew before expiry.")
    @argument("--quiet", "-q", action="store_true", help="Print nothing on success.")
    @line_magic
    @usage_errors
    def federation_token(self, line: str = ""):
        """GetFederationToken: temporary credentials for a federated user, put into the kernel's
        environment, renewed and cleared like %assume_role (status, --refresh, --clear: use
        %assume_role)."""
        args = parse_line(self.federation_token, line)
        if args is None:
            return None
        if not args.name:
            raise UsageError("%federation_token needs a NAME for the federated user.")
        self._activate(args, lambda m: m.requests.federation_request(
            args.name, **options.request_options(options.FEDERATION_OPTIONS, args)))

    @magic_arguments()
    @declared(options.SESSION_TOKEN_OPTIONS)
    @argument("--no-auto-refresh", action="store_true", help="Do not renew before expiry.")
    @argument("--quiet", "-q", action="store_true", help="Print nothing on success.")
    @line_magic
    @usage_errors
    def session_token(self, line: str = ""):
        """GetSessionToken: temporary (optionally MFA-backed) credentials for the user itself, put
        into the kernel's environment like %assume_role (status, --refresh, --clear: use
        %assume_role). Renewal with MFA needs a new code, asked before the next cell."""
        args = parse_line(self.session_token, line)
        if args is None:
            return None
        self._activate(args, lambda m: m.requests.session_token_request(
            **options.request_options(options.SESSION_TOKEN_OPTIONS, args)))

    def _activate(self, args, build_request) -> None:
        from . import display

        manager = self.manager
        request = build_request(manager)
        grant = manager.activate(request, mfa_code=code_or_prompt(getattr(args, "mfa_code", None)),
                                 auto_refresh=False if args.no_auto_refresh else None)
        if not args.quiet:
            print(display.assumed_line(grant, manager.clock(), verb="Obtained", zone=manager.settings.time_zone))

    @magic_arguments()
    @argument("--sidebar", action="store_true", help="Show the panel in JupyterLab's right sidebar (needs ipy_tempcreds[sidebar]).")
    @line_magic
    @usage_errors
    def role_panel(self, line: str = ""):
        """The role panel: pick a role, see who you are and how long is left, Assume/Refresh/Release."""
        args = parse_line(self.role_panel, line)
        if args is None:
            return None
        from .widgets.role_panel import show_panel

        return show_panel(self.manager, sidebar=args.sidebar)

    @line_magic
    @usage_errors
    def aws_whoami(self, line: str = ""):
        """Who AWS sees now: GetCallerIdentity with the kernel's credentials, and their lifetime."""
        from . import display

        if line.strip() in ("-h", "--help"):
            print(f"%aws_whoami\n\n{self.aws_whoami.__doc__}")
            return
        if line.strip():
            raise UsageError(mistyped.takes_nothing(self.aws_whoami, "aws_whoami", split_line(line), parser_of))
        identity = self.manager.whoami()
        print(display.whoami_text(identity, self.manager.current(), self.manager.clock(),
                                  zone=self.manager.settings.time_zone))

    @magic_arguments()
    @argument("service", nargs="?", help="Console service to open: s3, ec2, lambda, cloudwatch, ... (default: the console home).")
    @declared(options.CONSOLE_OPTIONS)
    @argument("--print", dest="print_url", action="store_true", help="In a terminal IPython: print the sign-in URL (a bearer secret for 15 minutes). Refused in a notebook, whose outputs are saved.")
    @line_magic
    @usage_errors
    def aws_console(self, line: str = ""):
        """Open the AWS console as the active credentials: a sign-in link that lives only in the page
        (never in the saved notebook) and expires after 15 minutes."""
        args = parse_line(self.aws_console, line)
        if args is None:
            return None
        from .widgets.console_link import show_console_link

        return show_console_link(self.shell, self.manager, args.service, args.region, print_url=args.print_url)

    @magic_arguments()
    @argument("profile", nargs="?", metavar="PROFILE", help="An SSO profile (sso_session, or sso_start_url and sso_region), or an sso-session name. Default: the profile in AWS_PROFILE, else the config's only sso-session.")
    @argument("--start-url", metavar="URL", help="The AWS access portal URL (https://…/start), instead of a profile.")
    @argument("--sso-region", metavar="R", help="The region of IAM Identity Center, with --start-url.")
    @argument("--logout", action="store_true", help="End the sign-in: the portal's logout, and the cached token deleted.")
    @line_magic
    @usage_errors
    def sso_login(self, line: str = ""):
        """Sign in to IAM Identity Center (SSO) from the notebook: open the link shown, approve the
        code, and boto3 profiles, `!aws --profile` and %assume_role use the sign-in. Tokens are kept
        in the AWS CLI's SSO cache and never printed."""
        args = parse_line(self.sso_login, line)
        if args is None:
            return None
        from .sso_magic import sso_login

        sso_login(args, self.manager.clock, self.manager.settings)

    @magic_arguments()
    @argument("--profile", metavar="NAME", help="The profile that gets login_session (default: AWS_PROFILE, else default). A profile with other credentials is refused.")
    @argument("--remote", action="store_true", help="Cross-device sign-in: open the link on any device and paste the code it shows (chosen by itself on JupyterHub or a kernel with no browser).")
    @argument("--code", metavar="CODE", help="Complete the waiting cross-device sign-in with the code the sign-in page showed (where input() is unavailable).")
    @argument("--cancel", action="store_true", help="Cancel the sign-in that is waiting; nothing is written.")
    @argument("--logout", action="store_true", help="Remove the cached login credentials and restore the environment.")
    @line_magic
    @usage_errors
    def aws_login(self, line: str = ""):
        """Sign in with your AWS console credentials, as `aws login` does: the login becomes the
        kernel's base identity (renewed with its refresh token; %assume_role assumes roles from it),
        cached where botocore and the AWS CLI read it, and named by the profile's login_session."""
        args = parse_line(self.aws_login, line)
        if args is None:
            return None
        given = [name for name in ("code", "cancel", "logout") if getattr(args, name) not in (None, False)]
        if len(given) > 1 or (given and args.remote):
            raise UsageError(f"--{given[0]} cannot be combined with --{(given[1:] or ['remote'])[0]}.")
        if args.profile and (args.code is not None or args.cancel):
            raise UsageError(f"--profile does not apply to --{given[0]}: it completes the sign-in that is waiting.")
        from .login_magic import aws_login

        aws_login(args, self.manager)
