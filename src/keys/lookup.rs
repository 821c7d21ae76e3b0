//! What every way of finding keys shares: where to look ([`Settings`], from `[keys]` in the
//! config), an address as queried and as bound (`Address`), and what one method gave
//! (`Lookup`, with an `Outcome` for each thing that went wrong). The methods — WKD
//! ([`super::wkd`]) and DNS OPENPGPKEY ([`super::dane`]) — each fill a `Lookup`;
//! [`super::discover`] runs them and binds what they found.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sequoia_openpgp::Cert;

use crate::config::Config;

use super::tofu;

/// Where and how discovery looks (`[keys]` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The DNS server to ask instead of the system's.
    pub nameserver: Option<SocketAddr>,
    /// DNSKEY records trusted instead of the root's anchors.
    pub trust_anchor: Option<PathBuf>,
    /// Certificates trusted besides the platform's roots for WKD servers.
    pub ca_file: Option<PathBuf>,
    /// The port of WKD servers: 443 but for private setups and tests.
    pub https_port: u16,
    /// The longest one query (DNS or HTTPS) may take.
    pub timeout: Duration,
    /// The largest WKD answer read, in bytes.
    pub max_size: usize,
}

impl Settings {
    /// The settings `[keys]` of the config gives, with `~/` and relative paths resolved
    /// against `home` and the config's directory; the rest by default.
    pub fn from_config(config: &Config, home: Option<&Path>) -> Settings {
        let keys = &config.keys;
        let resolve = |path: &PathBuf| config.resolve_path(path, home);
        Settings {
            nameserver: keys.nameserver,
            trust_anchor: keys.trust_anchor.as_ref().map(resolve),
            ca_file: keys.ca_file.as_ref().map(resolve),
            https_port: keys.https_port.unwrap_or(Settings::default().https_port),
            ..Settings::default()
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            nameserver: None,
            trust_anchor: None,
            ca_file: None,
            https_port: 443,
            timeout: Duration::from_secs(10),
            max_size: 1 << 20,
        }
    }
}

/// An address as queried — the local part as written (RFC 7929 hashes it so; WKD lowercases
/// it for the hash and keeps it for `l=`), the domain lowercase in IDNA ASCII — and as bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) queried: String,
    pub(crate) canonical: String,
}

impl Address {
    pub(crate) fn new(text: &str) -> Option<Address> {
        let canonical = tofu::binding_address(text)?;
        let written = text.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, _) = written.rsplit_once('@')?;
        let (_, domain) = canonical.rsplit_once('@')?;
        Some(Address {
            queried: format!("{local}@{domain}"),
            canonical,
        })
    }
}

/// Why a method gave no usable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing is published for the address.
    NotFound,
    /// An answer came but is not trusted (DNSSEC insecure or bogus, another address's
    /// certificate): it is not used.
    Refused,
    /// The query did not complete; `transient` when trying later may work.
    Failed { transient: bool },
}

impl Outcome {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Outcome::NotFound => "not_found",
            Outcome::Refused => "refused",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// What one method gave for one address: certificates carrying it, and what went wrong
/// (both when an answer held good and refused certificates).
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    /// `wkd` or `dane`, also the binding's source.
    pub(crate) method: &'static str,
    /// The URL fetched or the DNS name queried.
    pub(crate) from: String,
    pub(crate) certs: Vec<Cert>,
    pub(crate) problems: Vec<(Outcome, String)>,
}

impl Lookup {
    pub(crate) fn new(method: &'static str, from: impl Into<String>) -> Lookup {
        Lookup {
            method,
            from: from.into(),
            certs: Vec::new(),
            problems: Vec::new(),
        }
    }

    pub(crate) fn with(mut self, outcome: Outcome, reason: impl Into<String>) -> Lookup {
        self.problems.push((outcome, reason.into()));
        self
    }

    /// Keeps the certificates that carry `address` (canonical) in a self-signed user id
    /// ([`tofu::carries`]), and refuses the others, naming them.
    pub(crate) fn keep_certs_for(mut self, certs: Vec<Cert>, address: &str) -> Lookup {
        for cert in certs {
            if tofu::carries(&cert, address, SystemTime::now()) {
                self.certs.push(cert);
            } else {
                let reason = format!(
                    "certificate {} has no user id with {address}",
                    cert.fingerprint().to_hex()
                );
                self = self.with(Outcome::Refused, reason);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_queried_with_its_local_part_as_written_and_bound_canonical() {
        let address = Address::new(" <Hugh@Bücher.Example>").unwrap();
        assert_eq!(address.queried, "Hugh@xn--bcher-kva.example");
        assert_eq!(address.canonical, "hugh@xn--bcher-kva.example");
        assert_eq!(Address::new("nobody"), None);
    }

    #[test]
    fn the_keys_section_resolves_its_paths_and_keeps_port_443_by_default() {
        let parse = |text| Config::parse(text, Path::new("/etc/m/config.toml"));
        let config = parse(
            "[keys]\nnameserver = \"127.0.0.1:5353\"\ntrust_anchor = \"~/zone.keys\"\nca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let settings = Settings::from_config(&config, Some(Path::new("/home/u")));
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
}
