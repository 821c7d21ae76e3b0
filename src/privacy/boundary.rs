//! The trust boundary of a message (DESIGN §3): the Received line where mail entered the
//! user's own servers. Headers above it are those servers' words; everything below it was
//! already in the message when it arrived, so it is the sender's claim, whatever it says.
//!
//! The user's servers are `[trust] servers` when the config names them. Otherwise they are
//! the `by` host of the topmost Received line (the server that delivered into the mailbox,
//! which the sender cannot write), the hosts of its registrable domain (the Public Suffix
//! List: `mx1.example.co.uk` brings `*.example.co.uk`, never `*.co.uk`), and the hosts of
//! `trust.authserv_ids` with theirs. Going down from the top, the Received lines whose `by`
//! is one of them are theirs, down to the first one that received from a host outside them:
//! that line is the boundary. Whether the sending host is outside is read only from what
//! the receiving server saw (a loopback address, LMTP, the name it checked for the address),
//! never from the HELO name the sender chose.
//!
//! Only hops at or above the boundary are evidence of TLS; a hop below may lower the score
//! (a sender admitting clear text) but never raise it. An Authentication-Results header
//! counts only above the boundary's Received line (RFC 8601 §5: the border server adds it
//! on top; one below was written by the sender).

use crate::config::Config;
use crate::email::tls_rank;
use crate::record::{Authentication, Hop, Transport};

/// The servers taken as the user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    /// Host names, lowercase, without a final dot.
    hosts: Vec<String>,
    /// Registrable domains all of whose hosts count.
    domains: Vec<String>,
    /// Whether the config named them (`[trust] servers`) rather than the message.
    pub configured: bool,
}

impl Servers {
    /// `[trust] servers` when set; else the topmost Received `by` host of `transport`, the
    /// hosts of `authserv_ids`, and their registrable domains.
    pub fn of(config: &Config, transport: &Transport) -> Servers {
        let trust = &config.trust;
        if !trust.servers.is_empty() {
            return Servers {
                hosts: trust.servers.iter().map(|host| normal(host)).collect(),
                domains: Vec::new(),
                configured: true,
            };
        }
        let topmost = transport.hops.iter().find_map(|hop| hop.by.as_deref());
        Self::around(
            topmost
                .into_iter()
                .chain(trust.authserv_ids.iter().map(String::as_str)),
        )
    }

    /// What [`Servers::of`] takes when the config names no servers and no message is at hand:
    /// the hosts of `authserv_ids` and their registrable domains.
    pub fn from_authserv_ids(config: &Config) -> Servers {
        Self::around(config.trust.authserv_ids.iter().map(String::as_str))
    }

    fn around<'a>(hosts: impl Iterator<Item = &'a str>) -> Servers {
        let mut servers = Servers {
            hosts: Vec::new(),
            domains: Vec::new(),
            configured: false,
        };
        for host in hosts.map(normal).filter(|host| !host.is_empty()) {
            if let Some(domain) = registrable_domain(&host)
                && !servers.domains.contains(&domain)
            {
                servers.domains.push(domain);
            }
            if !servers.hosts.contains(&host) {
                servers.hosts.push(host);
            }
        }
        servers
    }

    /// Whether `host` is one of them.
    pub fn contains(&self, host: &str) -> bool {
        let host = normal(host);
        self.hosts.contains(&host)
            || self.domains.iter().any(|domain| {
                host.strip_suffix(domain.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
            })
    }

    /// The list as the factors and `config check` show it: hosts, then `*.domain`.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .hosts
            .iter()
            .cloned()
            .chain(self.domains.iter().map(|domain| format!("*.{domain}")))
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }
}

/// A host name as compared: lowercase, without the final dot.
fn normal(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The registrable domain of a host name (`example.co.uk` for `mx.example.co.uk`); none for
/// an address, a public suffix or a bare name.
fn registrable_domain(host: &str) -> Option<String> {
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return None;
    }
    psl::domain_str(host).map(str::to_string)
}

/// Where a message entered the user's servers, and what of its transport that lets us
/// believe.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary<'m> {
    pub servers: Servers,
    hops: &'m [Hop],
    /// The index in `hops` of the boundary line; `None` when no Received line is the user's
    /// servers' (none at all, or the topmost is not by one of `[trust] servers`).
    pub hop: Option<usize>,
}

/// How an Authentication-Results header stands against the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Above the boundary's Received line: the user's servers wrote it.
    Above,
    /// Below it, or in a message without a line of the user's servers: the sender's.
    Below,
    /// A record that does not say where the header stood (written by hand, or by a missive
    /// before headers' places were recorded): taken as it states.
    Unknown,
}

/// The transport facts believed: the record's counts, over the hops that may be counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Believed {
    pub external_hops: u32,
    pub tls_hops: u32,
    pub weakest_tls: Option<String>,
    /// Hops below the boundary that claim TLS, which count for nothing.
    pub unproven_tls: Vec<usize>,
}

impl<'m> Boundary<'m> {
    /// The boundary of the message whose transport is `transport`.
    pub fn find(transport: &'m Transport, config: &Config) -> Boundary<'m> {
        let servers = Servers::of(config, transport);
        let hops = transport.hops.as_slice();
        let mut boundary = None;
        for (index, hop) in hops.iter().enumerate() {
            // qmail's `(qmail 1 invoked from network)` names no host: it says nothing.
            if hop.from.is_none() && hop.by.is_none() {
                continue;
            }
            if !hop.by.as_deref().is_some_and(|by| servers.contains(by)) {
                break;
            }
            boundary = Some(index);
            let inside = !hop.external
                || hop
                    .peer
                    .as_deref()
                    .is_some_and(|peer| servers.contains(peer));
            if !inside {
                break;
            }
        }
        Boundary {
            servers,
            hops,
            hop: boundary,
        }
    }

    /// The boundary's Received line.
    pub fn line(&self) -> Option<&'m Hop> {
        self.hop.and_then(|index| self.hops.get(index))
    }

    /// The transport facts to score: the hops at or above the boundary, plus the hops below
    /// that admit clear text. A record without hops (written by hand) keeps its counts.
    pub fn believed(&self, transport: &Transport) -> Believed {
        if self.hops.is_empty() {
            return Believed {
                external_hops: transport.external_hops,
                tls_hops: transport.tls_hops,
                weakest_tls: transport.weakest_tls.clone(),
                unproven_tls: Vec::new(),
            };
        }
        let mut believed = Believed::default();
        for (index, hop) in self.hops.iter().enumerate().filter(|(_, hop)| hop.external) {
            let above = self.hop.is_some_and(|boundary| index <= boundary);
            if above || !hop.tls {
                believed.external_hops += 1;
            }
            if !hop.tls {
                continue;
            }
            if !above {
                believed.unproven_tls.push(index);
                continue;
            }
            believed.tls_hops += 1;
            if let Some(version) = hop.tls_version.as_deref()
                && believed
                    .weakest_tls
                    .as_deref()
                    .is_none_or(|weakest| tls_rank(version) < tls_rank(weakest))
            {
                believed.weakest_tls = Some(version.to_string());
            }
        }
        believed
    }

    /// Where `results` stands against the boundary's Received line.
    pub fn placement(&self, results: &Authentication) -> Placement {
        let Some(position) = results.position else {
            return Placement::Unknown;
        };
        match self.line().and_then(|line| line.position) {
            Some(line) if position < line => Placement::Above,
            _ => Placement::Below,
        }
    }

    /// The evidence of the `trust_boundary` factor: the servers and the line.
    pub fn describe(&self) -> String {
        let servers = format!(
            "your servers ({}): {}",
            if self.servers.configured {
                "trust.servers"
            } else {
                "topmost Received by, its domain, trust.authserv_ids"
            },
            self.servers.describe()
        );
        match self.line() {
            Some(line) => format!("{servers}; boundary: Received {}", line.evidence),
            None => format!("{servers}; no Received line is theirs: no transport fact is believed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(received: &str) -> Transport {
        crate::email::read(format!("{received}From: alice@example.org\n\nhi\n").as_bytes())
            .security
            .transport
    }

    const TOP: &str = "Received: from mx1.example.co.uk (localhost [127.0.0.1])\n\
        \tby store.example.co.uk with LMTP id 1; Mon, 11 Mar 2024 05:00:03 +0000\n";
    const BORDER: &str = "Received: from mail.sender.example (mail.sender.example [192.0.2.10])\n\
        \tby mx1.example.co.uk with ESMTP id 2; Mon, 11 Mar 2024 05:00:02 +0000\n";

    #[test]
    fn without_config_the_topmost_by_and_its_registrable_domain_are_the_users() {
        let transport = transport(TOP);
        let servers = Servers::of(&Config::default(), &transport);
        assert!(servers.contains("store.example.co.uk"));
        assert!(servers.contains("MX1.Example.Co.Uk."));
        assert!(!servers.contains("example.co.uk.evil.example"));
        assert!(!servers.contains("other.co.uk"), "never a public suffix");
        assert_eq!(servers.describe(), "store.example.co.uk, *.example.co.uk");
    }

    #[test]
    fn configured_servers_replace_the_guess() {
        let mut config = Config::default();
        config.trust.servers = vec!["mx.example.net".into()];
        let servers = Servers::of(&config, &transport(TOP));
        assert!(servers.configured && servers.contains("mx.example.net"));
        assert!(!servers.contains("store.example.co.uk"));
        let top = transport(TOP);
        let boundary = Boundary::find(&top, &config);
        assert_eq!(
            boundary.hop, None,
            "the topmost line is not by a configured server"
        );
    }

    #[test]
    fn authserv_ids_hosts_are_the_users_too() {
        let mut config = Config::default();
        config.trust.authserv_ids = vec!["mx.google.com".into()];
        let servers = Servers::from_authserv_ids(&config);
        assert!(servers.contains("mx.google.com") && servers.contains("mail-sor.google.com"));
    }

    #[test]
    fn the_boundary_is_the_first_line_that_received_from_outside() {
        let transport = transport(&format!("{TOP}{BORDER}"));
        let boundary = Boundary::find(&transport, &Config::default());
        assert_eq!(boundary.hop, Some(1));
        assert!(boundary.describe().contains("by mx1.example.co.uk"));
    }

    #[test]
    fn a_helo_naming_the_users_server_does_not_move_the_boundary_down() {
        // The sender says HELO mx1.example.co.uk; Postfix writes what it saw beside it.
        let spoofed = "Received: from mx1.example.co.uk (unknown [203.0.113.5])\n\
            \tby mx1.example.co.uk with ESMTP id 2; Mon, 11 Mar 2024 05:00:02 +0000\n\
            Received: from a.example.org (a.example.org [192.0.2.1])\n\
            \tby mx1.example.co.uk with ESMTPS id 3 (using TLSv1.3 with cipher X);\n\
            \tMon, 11 Mar 2024 05:00:01 +0000\n";
        let transport = transport(&format!("{TOP}{spoofed}"));
        let boundary = Boundary::find(&transport, &Config::default());
        assert_eq!(boundary.hop, Some(1));
        let believed = boundary.believed(&transport);
        assert_eq!((believed.external_hops, believed.tls_hops), (1, 0));
        assert_eq!(believed.unproven_tls, vec![2]);
    }

    #[test]
    fn a_checked_name_of_the_users_domain_is_inside() {
        let relay = "Received: from relay.example.co.uk (relay.example.co.uk [192.0.2.7])\n\
            \tby mx1.example.co.uk with ESMTPS id 2 (using TLSv1.2 with cipher X);\n\
            \tMon, 11 Mar 2024 05:00:02 +0000\n\
            Received: from mail.sender.example (mail.sender.example [192.0.2.10])\n\
            \tby relay.example.co.uk with ESMTPS id 3 (using TLSv1.3 with cipher X);\n\
            \tMon, 11 Mar 2024 05:00:01 +0000\n";
        let transport = transport(&format!("{TOP}{relay}"));
        let boundary = Boundary::find(&transport, &Config::default());
        assert_eq!(boundary.hop, Some(2));
        let believed = boundary.believed(&transport);
        assert_eq!((believed.external_hops, believed.tls_hops), (2, 2));
        assert_eq!(believed.weakest_tls.as_deref(), Some("TLSv1.2"));
    }

    #[test]
    fn a_clear_hop_below_the_boundary_lowers_and_a_tls_one_does_not_raise() {
        let below = "Received: from a.example.org ([192.0.2.1]) by b.example.org with ESMTP;\n\
            \tMon, 11 Mar 2024 05:00:00 +0000\n";
        let transport = transport(&format!("{TOP}{BORDER}{below}"));
        let believed = Boundary::find(&transport, &Config::default()).believed(&transport);
        assert_eq!((believed.external_hops, believed.tls_hops), (2, 0));
    }

    #[test]
    fn authentication_results_count_only_above_the_boundary_line() {
        let raw = format!(
            "Authentication-Results: mx1.example.co.uk; dkim=pass\n{TOP}{BORDER}\
             Authentication-Results: mx1.example.co.uk; dkim=pass\nFrom: a@example.org\n\nhi\n"
        );
        let message = crate::email::read(raw.as_bytes());
        let boundary = Boundary::find(&message.security.transport, &Config::default());
        let placements: Vec<Placement> = message
            .security
            .authentication
            .iter()
            .map(|results| boundary.placement(results))
            .collect();
        assert_eq!(placements, [Placement::Above, Placement::Below]);

        let unplaced = Authentication {
            position: None,
            ..message.security.authentication[0].clone()
        };
        assert_eq!(boundary.placement(&unplaced), Placement::Unknown);

        let no_received = crate::email::read(b"Authentication-Results: x; dkim=pass\n\nhi\n");
        let boundary = Boundary::find(&no_received.security.transport, &Config::default());
        assert_eq!(
            boundary.placement(&no_received.security.authentication[0]),
            Placement::Below,
            "no line of the user's servers: nothing stands above it"
        );
    }
}
