//! `config.toml`: who the user is, their accounts, which authentication servers they trust,
//! and policy. Reading it checks every field; an error names the file, line, column and key.
//!
//! ```toml
//! [identity]
//! name = "Alex Example"
//! addresses = ["alex@example.org", "@alex@social.example"]
//!
//! [accounts.archive]
//! source = "maildir:~/Mail"
//!
//! [accounts.work]
//! source = "imap://alex@mail.example.org"    # port 993: implicit TLS; :143: STARTTLS
//! mailboxes = ["INBOX", "Lists/*", '\Sent']  # names, globs, special uses; INBOX if none
//! password_command = "pass show mail/work"   # or token_command for OAUTHBEARER/XOAUTH2
//! # tls = "starttls"                         # implicit | starttls | none
//! # insecure = true                          # needed for tls = "none": plain text
//! # ca_file = "~/certs/home-ca.pem"          # trusted besides the platform's roots
//!
//! [accounts.social]
//! source = "mastodon://alex@social.example"  # direct messages, over HTTPS
//! token_command = "pass show social.example" # an access token with read:statuses
//!
//! [trust]
//! authserv_ids = ["mx.example.org"]   # Authentication-Results we believe
//! # servers = ["mx.example.org"]      # your mail servers; else found in each message
//!
//! [policy]
//! min_privacy = 40                    # send refuses to go below this
//!
//! [keys]                              # keys discover; all optional
//! # nameserver = "127.0.0.1:53"       # else the system's resolvers
//! # trust_anchor = "~/dnssec/zone.keys" # DNSKEY lines; else the root's anchors
//! # ca_file = "~/certs/home-ca.pem"   # WKD servers: trusted besides the platform's roots
//! # https_port = 443                  # WKD servers' port (private setups and tests)
//! # passphrase_command = "pass show missive/key" # unlocks your own key to decrypt
//! # decrypt = true                    # sync decrypts encrypted mail with your key
//!
//! [index]
//! # decrypted = true                  # index the text of decrypted mail (off: a leak)
//! ```
//!
//! An account's `source` is a source as on the command line. An IMAP account names its
//! server there (`imap://USER@HOST[:PORT]`, or one mailbox as `imap://USER@HOST/MAILBOX`)
//! and may add `mailboxes`, `tls`, `insecure` and `ca_file`, which other accounts may not
//! have. A Mastodon account names its instance (`mastodon://[USER@]INSTANCE[:PORT]`), takes
//! a `token_command`, and may add `ca_file`, and `tls = "none"` with `insecure = true` for
//! plain HTTP. `missive fetch mastodon://INSTANCE` uses the token of the account on that
//! instance. `missive fetch imap://USER@HOST[:PORT]/MAILBOX` on the command line logs in as the
//! account with the same user, host and port says.
//!
//! Secrets are never written in this file: an account names a `password_command` or
//! `token_command` whose output is the secret (run with `sh -c`; the output is never shown).
//! A plain `password` is accepted so that `config check` can point at it, is never used,
//! and `config show` never prints it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::source::Spec;
use crate::source::imap::{Auth, Tls};

/// The error returned when the config cannot be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

pub use crate::secret::{SecretError, secret_from_command};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
    #[serde(default)]
    pub trust: Trust,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub index: Index,
    #[serde(default)]
    pub keys: Keys,
    /// The directory of the config file: relative sources are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The user: their own addresses and handles are never counted as participants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    /// The user's Autocrypt preference: `mutual` asks peers who prefer it too to encrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_encrypt: Option<String>,
}

/// One account: where its messages come from and how to log in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// A source as on the command line (`maildir:PATH`, …).
    pub source: toml::Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_command: Option<String>,
    /// A secret in clear in the config: accepted, reported, never shown.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "redact"
    )]
    pub password: Option<String>,
    /// IMAP: mailbox names, globs (`Lists/*`) or special uses (`\Sent`, `\Archive`,
    /// `\All`); INBOX when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mailboxes: Vec<String>,
    /// IMAP: `implicit` (the default, and on port 993), `starttls` (the default on port
    /// 143) or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// IMAP: allow `tls = "none"`, plain text on the network.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// IMAP: a PEM file of certificates trusted besides the platform's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl Account {
    /// The source this account reads, with its login settings; an error names the setting.
    pub fn spec(&self, name: &str, cwd: &Path, home: Option<&Path>) -> Result<Spec, String> {
        let spec = Spec::parse(&expand_home(self.source.get_ref(), home), cwd)
            .map_err(|error| format!("accounts.{name}.source: {error}"))?;
        if let Spec::Mastodon(settings) = spec {
            return self.mastodon(name, *settings, cwd, home);
        }
        let Spec::Imap(mut settings) = spec else {
            if !self.mailboxes.is_empty()
                || self.tls.is_some()
                || self.insecure
                || self.ca_file.is_some()
            {
                return Err(format!(
                    "accounts.{name}: mailboxes, tls, insecure and ca_file are for imap:// and mastodon:// accounts"
                ));
            }
            return Ok(spec);
        };
        if !self.mailboxes.is_empty() {
            if settings.mailbox_in_key {
                return Err(format!(
                    "accounts.{name}: a mailbox in source and mailboxes: keep one"
                ));
            }
            settings.mailboxes = self.mailboxes.clone();
        }
        if let Some(tls) = self.tls {
            settings.tls = tls;
        }
        settings.insecure = self.insecure;
        settings.ca_file = self.ca_file_path(cwd, home);
        settings.auth = match (&self.password_command, &self.token_command) {
            (Some(command), None) => Some(Auth::PasswordCommand(command.clone())),
            (None, Some(command)) => Some(Auth::TokenCommand(command.clone())),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "accounts.{name}: password_command and token_command: keep one"
                ));
            }
            (None, None) => {
                return Err(format!(
                    "accounts.{name}: an IMAP account needs password_command or token_command"
                ));
            }
        };
        settings.account = Some(name.to_string());
        settings.check().map_err(|error| error.to_string())?;
        Ok(Spec::Imap(settings))
    }

    /// A Mastodon account's settings: HTTPS unless `tls = "none"` and `insecure`, the
    /// token from `token_command`.
    fn mastodon(
        &self,
        name: &str,
        mut settings: crate::source::mastodon::Settings,
        cwd: &Path,
        home: Option<&Path>,
    ) -> Result<Spec, String> {
        if !self.mailboxes.is_empty() {
            return Err(format!(
                "accounts.{name}: mailboxes are for imap:// accounts"
            ));
        }
        if self.password_command.is_some() {
            return Err(format!(
                "accounts.{name}: a Mastodon account takes token_command, not password_command"
            ));
        }
        settings.tls = self.tls.unwrap_or(Tls::Implicit);
        settings.insecure = self.insecure;
        settings.ca_file = self.ca_file_path(cwd, home);
        settings.token_command = self.token_command.clone();
        settings.account = Some(name.to_string());
        settings.check().map_err(|error| error.to_string())?;
        Ok(Spec::Mastodon(Box::new(settings)))
    }

    /// `ca_file`, with `~/` expanded and relative to the config's directory.
    fn ca_file_path(&self, cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
        self.ca_file
            .as_ref()
            .map(|path| resolve_path(path, cwd, home))
    }
}

/// Whose word is taken on how mail travelled and who sent it: the user's own servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// Authserv-ids of Authentication-Results headers added by the user's own servers.
    #[serde(default)]
    pub authserv_ids: Vec<String>,
    /// Host names of the user's own mail servers, as they write themselves in the `by` of
    /// their Received lines. Empty: each message's topmost Received `by` host, the hosts of
    /// its registrable domain, and the hosts of `authserv_ids` and theirs
    /// ([`crate::privacy::boundary`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
}

/// Rules for sending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The lowest privacy score `send` may deliver at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_privacy: Option<u8>,
}

/// What the search index may hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Index the decrypted text of encrypted mail; off by default, as a cleartext index of
    /// secret mail is a leak.
    #[serde(default)]
    pub decrypted: bool,
}

/// Where `keys discover` looks. Everything is optional: by default the system's resolvers,
/// the DNS root's trust anchors, the platform's TLS roots and port 443, as WKD and RFC 7929
/// say. The rest is for a private zone, a self-hosted server, and the tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// The DNS server asked, `IP:PORT` (UDP and TCP), instead of the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nameserver: Option<std::net::SocketAddr>,
    /// A file of DNSKEY records (zone-file syntax, one a line; a zone with a separate ZSK
    /// needs both keys) trusted instead of the root's anchors for DNSSEC validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_anchor: Option<PathBuf>,
    /// A PEM file of certificates trusted besides the platform's roots for WKD servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The port WKD servers are reached on, instead of 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_port: Option<u16>,
    /// A command whose first line of output is the passphrase of your own key, for
    /// decrypting (`score --decrypt`, `keys learn --decrypt`, `sync`); else a prompt on
    /// the terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_command: Option<String>,
    /// `sync` decrypts encrypted mail with your own key: signatures inside are checked, and
    /// the text is indexed when `[index] decrypted` allows it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decrypt: bool,
}

impl Keys {
    /// The discovery settings, with `~/` and relative paths resolved against `home` and
    /// the config's directory.
    pub fn settings(&self, dir: &Path, home: Option<&Path>) -> crate::keys::discover::Settings {
        let resolve = |path: &PathBuf| resolve_path(path, dir, home);
        let mut settings = crate::keys::discover::Settings {
            nameserver: self.nameserver,
            trust_anchor: self.trust_anchor.as_ref().map(resolve),
            ca_file: self.ca_file.as_ref().map(resolve),
            ..Default::default()
        };
        if let Some(port) = self.https_port {
            settings.https_port = port;
        }
        settings
    }
}

fn redact<S: serde::Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str("********"),
        None => s.serialize_none(),
    }
}

/// The default config file: `$XDG_CONFIG_HOME/missive/config.toml`, else
/// `~/.config/missive/config.toml`.
pub fn default_path(xdg_config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    xdg_config_home
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))
        .map(|base| base.join("missive/config.toml"))
}

impl Config {
    /// Reads and checks the config at `path`; `home` expands `~/` in sources.
    pub fn load(path: &Path, home: Option<&Path>) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path, home)
    }

    /// Parses and checks config text; `path` names it in errors and relative sources are
    /// relative to its directory.
    pub fn parse(text: &str, path: &Path, home: Option<&Path>) -> Result<Config, Error> {
        let invalid = |span: Option<std::ops::Range<usize>>, message: String| {
            let offset = span.map_or(0, |s| s.start).min(text.len());
            let before = &text[..offset];
            Error::Invalid {
                path: path.to_path_buf(),
                line: before.matches('\n').count() + 1,
                column: before.chars().rev().take_while(|&c| c != '\n').count() + 1,
                message,
            }
        };
        let config: Config = toml::from_str(text).map_err(|error| {
            let key = error
                .span()
                .and_then(|s| text.get(s))
                .filter(|k| !k.is_empty() && k.len() < 64 && !k.contains('\n'))
                .map(|k| format!("at `{}`: ", k.trim()))
                .unwrap_or_default();
            invalid(error.span(), format!("{key}{}", error.message().trim_end()))
        })?;
        let mut config = config;
        config.dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let cwd = &config.dir;
        for (name, account) in &config.accounts {
            account
                .spec(name, cwd, home)
                .map_err(|error| invalid(Some(account.source.span()), error))?;
        }
        Ok(config)
    }

    /// The sources of the named accounts, or of all accounts when `names` is empty.
    pub fn targets(
        &self,
        names: &[String],
        home: Option<&Path>,
    ) -> Result<Vec<crate::fetch::Target>, String> {
        let chosen: Vec<&String> = if names.is_empty() {
            self.accounts.keys().collect()
        } else {
            names.iter().collect()
        };
        chosen
            .into_iter()
            .map(|name| {
                let account = self
                    .accounts
                    .get(name)
                    .ok_or_else(|| format!("no account {name:?} in the config"))?;
                let spec = account.spec(name, &self.dir, home)?;
                Ok(crate::fetch::Target {
                    spec,
                    account: name.clone(),
                })
            })
            .collect()
    }

    /// A source given on the command line: an `imap://` URI logs in as the configured
    /// account of the same user, host and port says (without one, fetching it fails, naming
    /// what is missing). Its account is the URI.
    pub fn target_for(&self, spec: Spec, home: Option<&Path>) -> crate::fetch::Target {
        if let Spec::Mastodon(mut settings) = spec {
            let login = self.accounts.iter().find_map(|(name, account)| {
                match account.spec(name, &self.dir, home) {
                    Ok(Spec::Mastodon(configured)) if configured.same_login(&settings) => {
                        Some(configured)
                    }
                    _ => None,
                }
            });
            if let Some(login) = login {
                settings.tls = login.tls;
                settings.insecure = login.insecure;
                settings.ca_file = login.ca_file;
                settings.token_command = login.token_command;
            }
            return crate::fetch::Target::from_spec(Spec::Mastodon(settings));
        }
        let Spec::Imap(mut settings) = spec else {
            return crate::fetch::Target::from_spec(spec);
        };
        let login = self.accounts.iter().find_map(|(name, account)| {
            match account.spec(name, &self.dir, home) {
                Ok(Spec::Imap(configured)) if configured.same_login(&settings) => Some(configured),
                _ => None,
            }
        });
        if let Some(login) = login {
            settings.tls = login.tls;
            settings.insecure = login.insecure;
            settings.ca_file = login.ca_file;
            settings.auth = login.auth;
            if settings.mailboxes.is_empty() {
                settings.mailboxes = login.mailboxes;
            }
        }
        crate::fetch::Target::from_spec(Spec::Imap(settings))
    }

    /// What `config check` reports besides errors: settings that work but weaken privacy.
    pub fn warnings(&self) -> Vec<String> {
        self.accounts
            .iter()
            .filter(|(_, a)| a.password.is_some())
            .map(|(name, _)| {
                format!("accounts.{name}.password: a secret in clear in the config, never used; use password_command")
            })
            .chain(
                self.accounts
                    .iter()
                    .filter(|(_, a)| a.insecure && a.tls == Some(Tls::None))
                    .map(|(name, _)| {
                        format!("accounts.{name}: tls = \"none\": the password or token and the messages cross the network in clear")
                    }),
            )
            .chain(
                (self.keys.decrypt && self.keys.passphrase_command.is_none()).then(|| {
                    "keys.decrypt: without passphrase_command, sync asks for a protected key's passphrase on the terminal, which a cron job has not".to_string()
                }),
            )
            .collect()
    }
}

/// A path from the config: `~/` is the home directory, a relative path is relative to
/// the config's directory.
fn resolve_path(path: &Path, dir: &Path, home: Option<&Path>) -> PathBuf {
    match (path.to_string_lossy().strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => dir.join(path),
    }
}

/// `KIND:~/PATH` with `~` replaced by the home directory.
fn expand_home(source: &str, home: Option<&Path>) -> String {
    match (source.split_once(":~/"), home) {
        (Some((kind, rest)), Some(home)) => format!("{kind}:{}/{rest}", Path::new(&home).display()),
        _ => source.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(
            text,
            Path::new("/etc/m/config.toml"),
            Some(Path::new("/home/u")),
        )
    }

    #[test]
    fn the_keys_section_resolves_its_paths_and_keeps_port_443_by_default() {
        let config = parse(
            "[keys]\nnameserver = \"127.0.0.1:5353\"\ntrust_anchor = \"~/zone.keys\"\nca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let settings = config
            .keys
            .settings(&config.dir, Some(Path::new("/home/u")));
        assert_eq!(settings.nameserver, Some("127.0.0.1:5353".parse().unwrap()));
        assert_eq!(
            settings.trust_anchor.as_deref(),
            Some(Path::new("/home/u/zone.keys"))
        );
        assert_eq!(
            settings.ca_file.as_deref(),
            Some(Path::new("/etc/m/ca.pem"))
        );
        assert_eq!(settings.https_port, 443);
        assert!(parse("[keys]\nnameserver = \"not an address\"\n").is_err());
    }

    #[test]
    fn a_full_config_parses() {
        let config = parse(
            "[identity]\naddresses = [\"me@example.org\"]\n[accounts.home]\nsource = \"maildir:/m\"\npassword_command = \"pass mail\"\n[trust]\nauthserv_ids = [\"mx.example.org\"]\n[policy]\nmin_privacy = 40\n",
        )
        .unwrap();
        assert_eq!(config.identity.addresses, ["me@example.org"]);
        assert_eq!(config.accounts["home"].source.get_ref(), "maildir:/m");
        assert_eq!(config.policy.min_privacy, Some(40));
        assert!(
            !config.index.decrypted,
            "decrypted text is not indexed by default"
        );
    }

    #[test]
    fn a_source_under_home_is_expanded() {
        let config = parse("[accounts.a]\nsource = \"maildir:~/Mail\"\n").unwrap();
        let targets = config.targets(&[], Some(Path::new("/home/u"))).unwrap();
        assert_eq!(targets[0].spec, Spec::Maildir("/home/u/Mail".into()));
        assert_eq!(targets[0].account, "a");
        assert!(config.targets(&["b".into()], None).is_err());
        let relative = parse("[accounts.a]\nsource = \"maildir:Mail\"\n").unwrap();
        let targets = relative.targets(&[], None).unwrap();
        assert_eq!(
            targets[0].spec,
            Spec::Maildir("/etc/m/Mail".into()),
            "beside the config"
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_file_and_line() {
        let error = parse("[identity]\nname = \"x\"\n\n[accounts.home]\nsorce = \"maildir:/m\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("/etc/m/config.toml:5:1: "), "{error}");
        assert!(error.contains("sorce"), "{error}");
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
    fn an_imap_account_takes_its_login_settings() {
        let config = parse(
            "[accounts.work]\nsource = \"imap://me@mail.example.org:143\"\nmailboxes = [\"INBOX\", '\\Sent']\npassword_command = \"pass mail\"\nca_file = \"~/ca.pem\"\n",
        )
        .unwrap();
        let targets = config.targets(&[], Some(Path::new("/home/u"))).unwrap();
        let Spec::Imap(settings) = &targets[0].spec else {
            panic!("not imap: {:?}", targets[0].spec)
        };
        assert_eq!(settings.tls, Tls::Starttls);
        assert_eq!(settings.mailboxes, ["INBOX", "\\Sent"]);
        assert_eq!(
            settings.ca_file.as_deref(),
            Some(Path::new("/home/u/ca.pem"))
        );
        assert_eq!(
            settings.auth,
            Some(Auth::PasswordCommand("pass mail".into()))
        );
        assert_eq!(targets[0].account, "work");
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

    #[test]
    fn an_imap_uri_borrows_the_login_of_the_account_on_the_same_server() {
        let config = parse(
            "[accounts.w]\nsource = \"imap://me@h:1143\"\ntls = \"starttls\"\npassword_command = \"pw\"\n",
        )
        .unwrap();
        let spec = Spec::parse("imap://me@h:1143/Archive", Path::new("/")).unwrap();
        let target = config.target_for(spec, None);
        assert_eq!(target.account, "imap://me@h:1143/Archive");
        let Spec::Imap(settings) = target.spec else {
            panic!("not imap")
        };
        assert_eq!(settings.auth, Some(Auth::PasswordCommand("pw".into())));
        assert_eq!(settings.tls, Tls::Starttls);
        assert_eq!(settings.mailboxes, ["Archive"]);
    }

    #[test]
    fn a_mastodon_account_takes_its_token_command_and_tls_settings() {
        let config = parse(
            "[accounts.s]\nsource = \"mastodon://alex@Social.Example:8443\"\ntoken_command = \"pass tok\"\nca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let targets = config.targets(&[], None).unwrap();
        let Spec::Mastodon(settings) = &targets[0].spec else {
            panic!("not mastodon: {:?}", targets[0].spec)
        };
        assert_eq!(settings.token_command.as_deref(), Some("pass tok"));
        assert_eq!(
            settings.ca_file.as_deref(),
            Some(Path::new("/etc/m/ca.pem"))
        );
        assert_eq!(settings.origin(), "https://social.example:8443");
        let spec = Spec::parse("mastodon://social.example:8443", Path::new("/")).unwrap();
        let Spec::Mastodon(borrowed) = config.target_for(spec, None).spec else {
            panic!("not mastodon")
        };
        assert_eq!(borrowed.token_command.as_deref(), Some("pass tok"));
        for (extra, expected) in [
            ("", "token_command"),
            ("token_command = \"t\"\ntls = \"none\"\n", "insecure = true"),
            ("token_command = \"t\"\ntls = \"starttls\"\n", "for IMAP"),
            ("password_command = \"p\"\n", "not password_command"),
            (
                "token_command = \"t\"\nmailboxes = [\"INBOX\"]\n",
                "mailboxes",
            ),
        ] {
            let error = parse(&format!(
                "[accounts.s]\nsource = \"mastodon://social.example\"\n{extra}"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                error.contains(expected) && error.contains("s"),
                "{extra}: {error}"
            );
        }
    }

    #[test]
    fn a_password_is_never_shown_and_is_warned_about() {
        let config =
            parse("[accounts.a]\nsource = \"maildir:/m\"\npassword = \"hunter2\"\n").unwrap();
        let shown = toml::to_string(&config).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("********"));
        assert!(config.warnings()[0].contains("accounts.a.password"));
        let json = serde_json::to_string(&config).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
    }

    #[test]
    fn decrypting_in_sync_without_a_passphrase_command_is_warned_about() {
        let config = parse("[keys]\ndecrypt = true\n").unwrap();
        assert!(config.warnings()[0].contains("passphrase_command"));
        let config =
            parse("[keys]\ndecrypt = true\npassphrase_command = \"pass show key\"\n").unwrap();
        assert!(config.warnings().is_empty());
    }
}
