//! The TLS client settings every network source shares (IMAP, the Mastodon API): the
//! platform's root certificates and, when the account names one, a `ca_file` of PEM
//! certificates trusted besides them; rustls with the ring provider.

use std::path::Path;
use std::sync::Arc;

/// Why the TLS settings could not be made.
#[derive(Debug)]
pub(crate) enum SetupError {
    /// The `ca_file` cannot be read, or holds no usable certificate.
    CaFile(String),
    /// rustls refused the protocol versions (never with the defaults).
    Rustls(rustls::Error),
}

/// A client config trusting the platform's roots and the certificates of `ca_file`.
pub(crate) fn client_config(
    ca_file: Option<&Path>,
) -> Result<Arc<rustls::ClientConfig>, SetupError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        use rustls::pki_types::pem::PemObject;
        let ca_error = |reason: String| SetupError::CaFile(reason);
        let mut added = 0;
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
        {
            let cert = cert.map_err(|e| ca_error(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ca_error("no PEM certificate in it".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(SetupError::Rustls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
