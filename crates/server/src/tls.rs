//! TLS for `serve`: RFC 7644 §7 wants SCIM — and its bearer tokens — only over TLS. A certificate
//! chain and a private key from PEM files, rustls with the ring provider (TLS 1.2 and 1.3), HTTP/1.1.
//! Connections are served by [`crate::listen`]: each handshake runs on its own task with a time
//! limit, so a slow or broken client holds up no one; failed handshakes are logged at debug level.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// Where the certificate chain and its key are (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// The leaf's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn bad(file: &std::path::Path, what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{}: {what}", file.display()))
}

/// A TLS acceptor for `files`; errors name the file.
pub fn acceptor(files: &TlsFiles) -> std::io::Result<TlsAcceptor> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&files.cert, e))?;
    if certs.is_empty() {
        return Err(bad(&files.cert, "no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad(&files.key, e))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(&files.cert, e))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad(&files.key, format!("does not fit the certificate: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}
