//! The config's accounts as sources: an `[accounts.NAME]` table ([`crate::config::Account`])
//! becomes a [`Spec`] with its login settings ([`Access`]), checked as the source will use
//! them; a source named on the command line takes the login of the account on the same
//! server. Reading the config ([`load_config`]) checks every account here, so that a mistake
//! is named with its file, line and key before anything runs. Turning accounts into what
//! `fetch` reads is [`crate::fetch::Target`]'s job.
//!
//! How an account sends ([`transport`]) is read here too, beside how it fetches: its
//! `submission` server or `sendmail` command, which `send` delivers through.

use std::path::{Path, PathBuf};

use super::Spec;
use super::access::Access;
use crate::config::{self, Account, Config};
use crate::secret::Auth;
use crate::tls::Tls;

/// How an account sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// SMTP submission (RFC 6409), always over TLS.
    Submission(Submission),
    /// A sendmail-compatible command, run with `sh -c`.
    Sendmail(String),
}

/// An SMTP submission server and the login to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (port 465); else STARTTLS before anything else.
    pub implicit_tls: bool,
    pub user: String,
    pub auth: Auth,
    /// PEM certificates trusted besides the platform's roots.
    pub ca_file: Option<PathBuf>,
}

/// Reads the config at `path` and checks every account as a source; `home` expands `~/`.
pub fn load_config(path: &Path, home: Option<&Path>) -> Result<Config, config::Error> {
    parse_config(&config::read(path)?, path, home)
}

/// Parses config text ([`Config::parse`]) and checks every account as a source; an error
/// names the line of the account's `source`.
pub fn parse_config(text: &str, path: &Path, home: Option<&Path>) -> Result<Config, config::Error> {
    let config = Config::parse(text, path)?;
    for (name, account) in &config.accounts {
        account_spec(&config, name, account, home).map_err(|error| {
            config::Error::invalid(text, path, Some(account.source.span()), error)
        })?;
        account_transport(&config, name, account, home).map_err(|error| {
            let span = account
                .submission
                .as_ref()
                .unwrap_or(&account.source)
                .span();
            config::Error::invalid(text, path, Some(span), error)
        })?;
    }
    Ok(config)
}

/// How the account `name` sends, if it says; an error names the account and the setting.
pub fn transport(
    config: &Config,
    name: &str,
    home: Option<&Path>,
) -> Result<Option<Transport>, String> {
    let account = config
        .accounts
        .get(name)
        .ok_or_else(|| format!("no account {name:?} in the config"))?;
    account_transport(config, name, account, home)
}

fn account_transport(
    config: &Config,
    name: &str,
    account: &Account,
    home: Option<&Path>,
) -> Result<Option<Transport>, String> {
    let submission = match (&account.submission, &account.sendmail) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "accounts.{name}: submission and sendmail: keep one"
            ));
        }
        (None, Some(command)) => {
            if account.submission_tls.is_some() {
                return Err(format!(
                    "accounts.{name}: submission_tls is for a submission server"
                ));
            }
            return Ok(Some(Transport::Sendmail(command.clone())));
        }
        (None, None) if account.submission_tls.is_some() => {
            return Err(format!(
                "accounts.{name}: submission_tls without submission"
            ));
        }
        (None, None) => return Ok(None),
        (Some(submission), None) => submission.get_ref(),
    };
    let setting = |error: String| format!("accounts.{name}.submission: {error}");
    let rest = submission
        .strip_prefix("smtp://")
        .ok_or_else(|| setting(format!("{submission:?} is not smtp://USER@HOST[:PORT]")))?;
    let (user, server) = rest
        .rsplit_once('@')
        .filter(|(user, server)| !user.is_empty() && !server.is_empty())
        .ok_or_else(|| setting(format!("{submission:?} names no USER@HOST")))?;
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| setting(format!("{port:?} is not a port")))?,
        ),
        None => (server, 587),
    };
    let implicit_tls = match account.submission_tls {
        Some(Tls::Implicit) => true,
        Some(Tls::Starttls) => false,
        Some(Tls::None) => {
            return Err(format!(
                "accounts.{name}.submission_tls: mail is never submitted in plain text"
            ));
        }
        None => port == 465,
    };
    let auth = match access(
        config,
        name,
        account,
        &super::access::Access::new(Tls::Implicit),
        home,
    )?
    .auth
    {
        Some(auth) => auth,
        None => {
            return Err(format!(
                "accounts.{name}: submission needs password_command or token_command"
            ));
        }
    };
    Ok(Some(Transport::Submission(Submission {
        host: host.to_string(),
        port,
        implicit_tls,
        user: user.replace("%40", "@"),
        auth,
        ca_file: account
            .ca_file
            .as_ref()
            .map(|path| config.resolve_path(path, home)),
    })))
}

/// The source the account `name` reads, with its login settings; an error names the
/// account, or the setting.
pub fn spec(config: &Config, name: &str, home: Option<&Path>) -> Result<Spec, String> {
    let account = config
        .accounts
        .get(name)
        .ok_or_else(|| format!("no account {name:?} in the config"))?;
    account_spec(config, name, account, home)
}

/// A source given on the command line: an `imap://` or `mastodon://` URI logs in as the
/// configured account of the same user, host and port says (without one, fetching it fails,
/// naming what is missing); a `signal:` capture of a configured account takes its `number`.
pub fn with_login(config: &Config, spec: Spec, home: Option<&Path>) -> Spec {
    if let Spec::Signal { path, number } = spec {
        let number = number.or_else(|| {
            let held = Spec::Signal {
                path: path.clone(),
                number: None,
            };
            config
                .accounts
                .get(&owner(config, &held, home)?)?
                .number
                .clone()
        });
        return Spec::Signal { path, number };
    }
    if !matches!(spec, Spec::Imap(_) | Spec::Mastodon(_)) {
        return spec;
    }
    let login = config.accounts.iter().find_map(|(name, account)| {
        let configured = account_spec(config, name, account, home).ok()?;
        match (&configured, &spec) {
            (Spec::Imap(login), Spec::Imap(uri)) if login.same_login(uri) => Some(configured),
            (Spec::Mastodon(login), Spec::Mastodon(uri)) if login.same_login(uri) => {
                Some(configured)
            }
            _ => None,
        }
    });
    // The URI keeps its own name: it is not the account.
    match (spec, login) {
        (Spec::Imap(mut settings), Some(Spec::Imap(login))) => {
            if settings.mailboxes.is_empty() {
                settings.mailboxes = login.mailboxes;
            }
            settings.access = Access {
                account: settings.access.account.take(),
                ..login.access
            };
            Spec::Imap(settings)
        }
        (Spec::Mastodon(mut settings), Some(Spec::Mastodon(login))) => {
            settings.access = Access {
                account: settings.access.account.take(),
                ..login.access
            };
            Spec::Mastodon(settings)
        }
        (spec, _) => spec,
    }
}

/// The configured account a local source belongs to: the one whose source is the same file
/// or directory, or holds it (a folder of its Maildir, one of its message files), read as
/// the same protocol; the innermost when accounts nest. Paths compare as [`Spec::parse`]
/// leaves them, absolute with symlinks resolved, so every spelling of a path finds the same
/// account, and a message the same record id (DESIGN.md §2).
pub fn owner(config: &Config, spec: &Spec, home: Option<&Path>) -> Option<String> {
    let (protocol, path) = spec.local()?;
    config
        .accounts
        .iter()
        .filter_map(|(name, account)| {
            let configured = account_spec(config, name, account, home).ok()?;
            let (kind, root) = configured.local()?;
            (kind == protocol && path.starts_with(root)).then(|| (root.components().count(), name))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, name)| name.clone())
}

fn account_spec(
    config: &Config,
    name: &str,
    account: &Account,
    home: Option<&Path>,
) -> Result<Spec, String> {
    let spec = Spec::parse(&account.source_with_home(home), &config.dir)
        .map_err(|error| format!("accounts.{name}.source: {error}"))?;
    if let Some(number) = &account.number {
        if !matches!(spec, Spec::Signal { .. }) {
            return Err(format!("accounts.{name}: number is for signal: accounts"));
        }
        if !signal_number(number) {
            return Err(format!(
                "accounts.{name}.number: {number:?} is not a phone number (+ and digits)"
            ));
        }
    }
    match spec {
        Spec::Imap(mut settings) => {
            if !account.mailboxes.is_empty() {
                if settings.mailbox_in_key {
                    return Err(format!(
                        "accounts.{name}: a mailbox in source and mailboxes: keep one"
                    ));
                }
                settings.mailboxes = account.mailboxes.clone();
            }
            settings.access = access(config, name, account, &settings.access, home)?;
            if settings.access.auth.is_none() {
                return Err(format!(
                    "accounts.{name}: an IMAP account needs password_command or token_command"
                ));
            }
            settings.check().map_err(|error| error.to_string())?;
            Ok(Spec::Imap(settings))
        }
        Spec::Mastodon(mut settings) => {
            if account.submission.is_some() || account.sendmail.is_some() {
                return Err(format!(
                    "accounts.{name}: a Mastodon account sends by its API, not submission or sendmail"
                ));
            }
            if account.sent_mailbox.is_some() {
                return Err(format!(
                    "accounts.{name}: sent_mailbox is for imap:// accounts"
                ));
            }
            if !account.mailboxes.is_empty() {
                return Err(format!(
                    "accounts.{name}: mailboxes are for imap:// accounts"
                ));
            }
            if account.password_command.is_some() {
                return Err(format!(
                    "accounts.{name}: a Mastodon account takes token_command, not password_command"
                ));
            }
            settings.access = access(config, name, account, &settings.access, home)?;
            settings.check().map_err(|error| error.to_string())?;
            Ok(Spec::Mastodon(settings))
        }
        spec => {
            if !account.mailboxes.is_empty()
                || account.tls.is_some()
                || account.insecure
                || (account.ca_file.is_some() && account.submission.is_none())
            {
                return Err(format!(
                    "accounts.{name}: mailboxes, tls, insecure and ca_file are for imap:// and mastodon:// accounts"
                ));
            }
            if account.sent_mailbox.is_some() {
                return Err(format!(
                    "accounts.{name}: sent_mailbox is for imap:// accounts"
                ));
            }
            Ok(match spec {
                Spec::Signal { path, .. } => Spec::Signal {
                    path,
                    number: account.number.clone(),
                },
                spec => spec,
            })
        }
    }
}

/// Whether `number` is written as Signal names a number: `+` and the international digits.
fn signal_number(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The account's login settings over those its URI gives (the TLS of its port).
fn access(
    config: &Config,
    name: &str,
    account: &Account,
    uri: &Access,
    home: Option<&Path>,
) -> Result<Access, String> {
    let auth = match (&account.password_command, &account.token_command) {
        (Some(command), None) => Some(Auth::PasswordCommand(command.clone())),
        (None, Some(command)) => Some(Auth::TokenCommand(command.clone())),
        (Some(_), Some(_)) => {
            return Err(format!(
                "accounts.{name}: password_command and token_command: keep one"
            ));
        }
        (None, None) => None,
    };
    Ok(Access {
        tls: account.tls.unwrap_or(uri.tls),
        insecure: account.insecure,
        ca_file: account
            .ca_file
            .as_ref()
            .map(|path| config.resolve_path(path, home)),
        auth,
        account: Some(name.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, config::Error> {
        parse_config(
            text,
            Path::new("/etc/m/config.toml"),
            Some(Path::new("/home/u")),
        )
    }

    #[test]
    fn a_local_path_belongs_to_the_innermost_account_that_holds_it() {
        let config = parse(
            "[accounts.mail]\nsource = \"maildir:/m\"\n[accounts.work]\nsource = \"maildir:/m/.work\"\n[accounts.tw]\nsource = \"twitter-archive:/t\"\n",
        )
        .unwrap();
        let owner = |text: &str| owner(&config, &Spec::parse(text, Path::new("/")).unwrap(), None);
        assert_eq!(owner("maildir:/m").as_deref(), Some("mail"));
        assert_eq!(owner("maildir:/m/.Sent").as_deref(), Some("mail"));
        assert_eq!(owner("eml:/m/cur/1:2,S").as_deref(), Some("mail"));
        assert_eq!(owner("maildir:/m/.work/.x").as_deref(), Some("work"));
        assert_eq!(owner("maildir:/mm"), None, "a name that only starts alike");
        assert_eq!(owner("mbox:/t"), None, "another protocol");
        assert_eq!(owner("twitter-archive:/t").as_deref(), Some("tw"));
        assert_eq!(owner("eml:-"), None);
    }

    #[test]
    fn a_bad_source_is_named_with_its_account_and_line() {
        let error = parse("[accounts.work]\nsource = \"pop3:x\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("/etc/m/config.toml:2:"), "{error}");
        assert!(error.contains("accounts.work.source"), "{error}");
    }

    #[test]
    fn an_account_says_how_it_sends_and_never_in_plain_text() {
        let config = parse(
            "[accounts.w]\nsource = \"imap://me@h\"\npassword_command = \"p\"\nsubmission = \"smtp://me%40h@smtp.h\"\n[accounts.m]\nsource = \"maildir:/m\"\ntoken_command = \"t\"\nsubmission = \"smtp://me@smtp.h:465\"\nca_file = \"ca.pem\"\n[accounts.s]\nsource = \"maildir:/s\"\nsendmail = \"/usr/sbin/sendmail\"\n",
        )
        .unwrap();
        let Some(Transport::Submission(w)) = transport(&config, "w", None).unwrap() else {
            panic!("a submission server");
        };
        assert_eq!(
            (w.host.as_str(), w.port, w.implicit_tls, w.user.as_str()),
            ("smtp.h", 587, false, "me@h")
        );
        assert_eq!(w.auth, Auth::PasswordCommand("p".into()));
        let Some(Transport::Submission(m)) = transport(&config, "m", None).unwrap() else {
            panic!("a submission server");
        };
        assert!(m.implicit_tls, "port 465");
        assert_eq!(m.ca_file.as_deref(), Some(Path::new("/etc/m/ca.pem")));
        assert_eq!(
            transport(&config, "s", None).unwrap(),
            Some(Transport::Sendmail("/usr/sbin/sendmail".into()))
        );
        let refused = |text: &str, expected: &str| {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.starts_with("/etc/m/config.toml:"), "{error}");
        };
        refused(
            "[accounts.m]\nsource = \"maildir:/m\"\npassword_command = \"p\"\nsubmission = \"smtp://me@h\"\nsubmission_tls = \"none\"\n",
            "never submitted in plain text",
        );
        refused(
            "[accounts.m]\nsource = \"maildir:/m\"\nsubmission = \"smtp://me@h\"\n",
            "submission needs password_command",
        );
        refused(
            "[accounts.m]\nsource = \"maildir:/m\"\npassword_command = \"p\"\nsubmission = \"smtps://h\"\n",
            "smtp://USER@HOST",
        );
        refused(
            "[accounts.m]\nsource = \"maildir:/m\"\nsendmail = \"s\"\npassword_command = \"p\"\nsubmission = \"smtp://me@h\"\n",
            "keep one",
        );
    }

    #[test]
    fn an_imap_account_without_a_secret_command_or_in_clear_is_refused() {
        let error = parse("[accounts.w]\nsource = \"imap://me@h\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("accounts.w") && error.contains("password_command"),
            "{error}"
        );
        let error = parse(
            "[accounts.w]\nsource = \"imap://me@h\"\ntoken_command = \"t\"\ntls = \"none\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("account w") && error.contains("insecure = true"),
            "{error}"
        );
        let error = parse("[accounts.m]\nsource = \"maildir:/m\"\ninsecure = true\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("for imap:// and mastodon:// accounts"),
            "{error}"
        );
    }
}
