//! The Web Key Directory (draft-koch-openpgp-webkey-service): the hashed local part, the
//! two URLs of a lookup, and fetching them: advanced (`openpgpkey.` subdomain) first, direct
//! only when that subdomain does not exist in the DNS — a server that fails or does not
//! answer is not a reason to fall back. HTTPS only, no redirects, a size and a time limit,
//! and only certificates carrying the looked-up address are kept ([`super::discover`]
//! binds them).

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::net::NetError;
use sha1::{Digest, Sha1};

use super::crypto;
use super::lookup::{Address, Lookup, Outcome, Settings};

const METHOD: &str = "wkd";

/// z-base-32 (RFC 6189 §5.1.6) of SHA-1 of the local part lowercased in ASCII only, as the
/// draft says: non-ASCII letters are left as they are.
pub fn hash(local_part: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";
    let digest = Sha1::digest(local_part.to_ascii_lowercase().as_bytes());
    let mut out = String::with_capacity(32);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in digest {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The advanced and the direct lookup URLs of `address`, with the `l=` parameter carrying
/// the local part as written (percent-encoded).
pub fn urls(address: &str) -> Option<(String, String)> {
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = domain.to_ascii_lowercase();
    let hash = hash(local);
    let l: String = local
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Some((
        format!("https://openpgpkey.{domain}/.well-known/openpgpkey/{domain}/hu/{hash}?l={l}"),
        format!("https://{domain}/.well-known/openpgpkey/hu/{hash}?l={l}"),
    ))
}

/// Fetches the keys of `address` from its domain's Web Key Directory, asking `resolver`
/// for the server's addresses.
pub(crate) async fn fetch(
    resolver: &TokioResolver,
    tls: &Arc<rustls::ClientConfig>,
    settings: &Settings,
    target: &Address,
) -> Lookup {
    let address = target.canonical.as_str();
    let Some(((advanced, direct), (_, domain))) =
        urls(&target.queried).zip(address.rsplit_once('@'))
    else {
        return Lookup::new(METHOD, address).with(Outcome::Refused, "not an address");
    };
    let subdomain = format!("openpgpkey.{domain}");
    let (url, host, ips) = match resolver.lookup_ip(format!("{subdomain}.")).await {
        Ok(ips) => (advanced, subdomain, ips),
        Err(error) if absent(&error) => match resolver.lookup_ip(format!("{domain}.")).await {
            Ok(ips) => (direct, domain.to_string(), ips),
            Err(error) if absent(&error) => {
                return Lookup::new(METHOD, direct).with(
                    Outcome::NotFound,
                    format!("neither {subdomain} nor {domain} has an address"),
                );
            }
            Err(error) => return unresolved(direct, domain, &error),
        },
        Err(error) => return unresolved(advanced, &subdomain, &error),
    };
    let servers: Vec<SocketAddr> = ips
        .iter()
        .map(|ip| SocketAddr::new(ip, settings.https_port))
        .collect();
    let lookup = Lookup::new(METHOD, url.clone());
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(rustls::ClientConfig::clone(tls))
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .resolve_to_addrs(&host, &servers)
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => return lookup.with(Outcome::Failed { transient: false }, chain(&error)),
    };
    let mut response = match client.get(&url).send().await {
        Ok(response) => response,
        Err(error) => {
            let transient = error.is_timeout() || error.is_connect() && !tls_refused(&error);
            return lookup.with(Outcome::Failed { transient }, chain(&error));
        }
    };
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return lookup.with(
            Outcome::NotFound,
            format!("{host} has no key for {address}"),
        );
    }
    if !status.is_success() {
        let transient = status.is_server_error() || status == 429;
        return lookup.with(
            Outcome::Failed { transient },
            format!("{host} answered {status}"),
        );
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > settings.max_size {
                    let reason = format!("the answer is larger than {} bytes", settings.max_size);
                    return lookup.with(Outcome::Refused, reason);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                let transient = error.is_timeout();
                return lookup.with(Outcome::Failed { transient }, chain(&error));
            }
        }
    }
    match crypto::parse_certs(&body) {
        Ok(certs) => lookup.keep_certs_for(certs, address),
        Err(error) => lookup.with(Outcome::Refused, error.to_string()),
    }
}

/// The name does not exist, or has no address: the draft's case for the direct method.
fn absent(error: &NetError) -> bool {
    error.is_nx_domain() || error.is_no_records_found()
}

fn unresolved(url: String, host: &str, error: &NetError) -> Lookup {
    Lookup::new(METHOD, url).with(
        Outcome::Failed { transient: true },
        format!("cannot resolve {host}: {error}"),
    )
}

/// A TLS failure (a certificate not trusted, no common protocol) is no network hiccup.
/// hyper wraps rustls's error in `io::Error`s, whose `source` skips what they wrap: look
/// inside each.
fn tls_refused(error: &reqwest::Error) -> bool {
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = at {
        let inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        if error.is::<rustls::Error>() {
            return true;
        }
        at = inner.or_else(|| error.source());
    }
    false
}

/// An error with its causes, which reqwest keeps out of its own message.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_the_draft_example() {
        assert_eq!(hash("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
    }

    #[test]
    fn urls_are_advanced_and_direct_with_the_local_part() {
        let (advanced, direct) = urls("Joe.Doe@Example.ORG").unwrap();
        assert_eq!(
            advanced,
            "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
        );
        assert_eq!(
            direct,
            "https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
        );
        assert!(urls("a+b@x.org").unwrap().0.ends_with("?l=a%2Bb"));
        assert_eq!(urls("nobody"), None);
    }
}
