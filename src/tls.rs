//! TLS for every client missive is: how an account's connection is protected ([`Tls`], the
//! `tls` setting of the config), and the one client setup — the platform's root certificates
//! plus an optional PEM file of certificates trusted besides them (`ca_file`, for self-hosted
//! servers and the tests), over rustls with the ring provider. IMAP
//! ([`crate::source::imap`]), Mastodon ([`crate::source::mastodon`]) and WKD
//! ([`crate::keys::wkd`]) all use it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let ca_error = |reason: String| Error::CaFile {
            path: path.to_path_buf(),
            reason,
        };
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))? {
            let cert = cert.map_err(|e| ca_error(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ca_error("no PEM certificate in it".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Versions)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
