//! The roots an https connection trusts: the webpki (Mozilla) roots plus the ones the user
//! adds, parsed when added so a bad certificate is reported where it was given.

use std::fmt;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

/// A root certificate that [`HttpClientBuilder`](crate::HttpClientBuilder) could not add.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The PEM text holds no `CERTIFICATE` block.
    NoCertificate,
    /// The PEM text is malformed (the parser's reason).
    Pem(String),
    /// The certificate cannot be a trust anchor: not a DER X.509 certificate (the reason).
    Invalid(String),
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateError::NoCertificate => f.write_str("no CERTIFICATE block in the PEM"),
            CertificateError::Pem(reason) => write!(f, "malformed PEM: {reason}"),
            CertificateError::Invalid(reason) => {
                write!(f, "not a usable root certificate: {reason}")
            }
        }
    }
}

impl std::error::Error for CertificateError {}

/// Parses every `CERTIFICATE` block of `pem` into `store`; nothing is added unless all parse.
pub(crate) fn add_pem(store: &mut RootCertStore, pem: &[u8]) -> Result<(), CertificateError> {
    let mut parsed = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| match e {
            pem::Error::NoItemsFound => CertificateError::NoCertificate,
            e => CertificateError::Pem(e.to_string()),
        })?;
        add_to(&mut parsed, cert)?;
    }
    if parsed.is_empty() {
        return Err(CertificateError::NoCertificate);
    }
    store.roots.extend(parsed.roots);
    Ok(())
}

/// Parses one DER certificate into `store`.
pub(crate) fn add_der(store: &mut RootCertStore, der: &[u8]) -> Result<(), CertificateError> {
    add_to(store, CertificateDer::from(der.to_vec()))
}

fn add_to(store: &mut RootCertStore, cert: CertificateDer<'_>) -> Result<(), CertificateError> {
    store
        .add(cert)
        .map_err(|e| CertificateError::Invalid(e.to_string()))
}

/// Said after a certificate no root vouches for: the likely cause and its remedy.
pub(crate) const UNKNOWN_ISSUER_HINT: &str = " (the server's certificate is not signed by a \
     trusted root; HttpClientBuilder::add_root_certificate_pem trusts a private CA or a \
     self-signed certificate)";

/// Whether `cause` is rustls refusing a certificate for want of a trusted issuer. rustls'
/// error arrives inside `io::Error`s (hyper-rustls wraps tokio-rustls' one again), whose
/// `source` skips what they wrap, so they are unwrapped here.
pub(crate) fn is_unknown_issuer(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = cause;
    loop {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            );
        }
        match cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => cause = inner,
            None => return false,
        }
    }
}

/// The webpki roots and then `extra`.
pub(crate) fn roots(extra: RootCertStore) -> RootCertStore {
    let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots.roots.extend(extra.roots);
    roots
}
