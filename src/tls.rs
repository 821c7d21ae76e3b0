//! TLS for every client missive is: how an account's connection is protected ([`Tls`], the
//! `tls` setting of the config), and the one client setup — the platform's root certificates
//! plus an optional PEM file of certificates trusted besides them (`ca_file`, for self-hosted
//! servers and the tests), over rustls with the ring provider. IMAP
//! ([`crate::source::imap`]), Mastodon ([`crate::source::mastodon`]) and WKD
//! ([`crate::keys::wkd`]) all use it; SMTP submission trusts the same roots
//! ([`trusted_roots`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// TLS from the first byte (IMAP on port 993, HTTPS).
    Implicit,
    /// Plain text, then STARTTLS before anything else (IMAP on port 143).
    Starttls,
    /// No TLS at all: only with `insecure = true`.
    None,
}

/// The error returned when the client setup cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read ca_file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("no TLS protocol version in common with the crypto provider: {0}")]
    Versions(#[source] rustls::Error),
}

/// A client config trusting the platform's roots and every certificate in `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trusted_roots(ca_file)? {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Versions)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificates a client trusts: the platform's roots and every one in `ca_file`, for a
/// client (SMTP submission) whose library builds its
/// own TLS setup from them.
pub fn trusted_roots(ca_file: Option<&Path>) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut roots = rustls_native_certs::load_native_certs().certs;
    if let Some(path) = ca_file {
        let ca_error = |reason: String| Error::CaFile {
            path: path.to_path_buf(),
            reason,
        };
        let before = roots.len();
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))? {
            let cert = cert.map_err(|e| ca_error(e.to_string()))?;
            // Checked here, as the root store would, so a bad file is named.
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .map_err(|e| ca_error(e.to_string()))?;
            roots.push(cert);
        }
        if roots.len() == before {
            return Err(ca_error("no PEM certificate in it".into()));
        }
    }
    Ok(roots)
}
