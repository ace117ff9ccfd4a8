//! TLS for the connection to PostgreSQL, with libpq's meaning of `sslmode` and `sslrootcert`,
//! so the URL an operator tests with `psql` means the same to the relayer:
//!
//! | `sslmode` | encrypted | server authenticated |
//! |---|---|---|
//! | `disable` | never | no |
//! | `allow`, `prefer` (libpq's default) | when the server offers TLS | no |
//! | `require` | always | only if `sslrootcert` is given (then as `verify-ca`) |
//! | `verify-ca` | always | certificate chain to `sslrootcert` |
//! | `verify-full` | always | chain to `sslrootcert` and the host name (or IP) in the certificate |
//!
//! `sslrootcert` is a PEM file of trusted CA certificates, or `system` for the platform's
//! store; as in libpq 16, `system` makes `verify-full` the default and refuses weaker modes
//! (every public CA is in that store, so only the name pins the server). Verification is
//! rustls/webpki's (TLS 1.2 and 1.3, the `ring` provider the rest of the relayer already
//! links). With SCRAM over a verified channel the login is also bound to it
//! (`tls-server-end-point`); in the unauthenticated modes a machine in the middle can simply
//! ask for the password in clear, so use `verify-full` for any database off this machine.
//!
//! Also as libpq: no TLS over Unix sockets; an address given only as `hostaddr` (no host
//! name to check) is plain under `prefer`/`allow` and refused under the stricter modes; a
//! host list mixing Unix sockets and TCP hosts is refused. Not read, unlike psql: the
//! `PGSSLMODE`/`PGSSLROOTCERT` environment variables and `~/.postgresql/root.crt` (write the
//! settings in the URL). Client certificates (`sslcert`, `sslkey`, ...) are not supported
//! and are refused by name rather than ignored; an `sslmode` written in a form this parser
//! does not read is refused rather than overridden.
//!
//! `allow` is treated as `prefer` (TLS first): libpq tries a plain connection first, which
//! only differs on servers that refuse TLS, and then both end up plain.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::{StoreError, StoreResult};

/// libpq's `sslmode` values (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// libpq: plain first, then TLS; here the same as [`SslMode::Prefer`].
    Allow,
    /// TLS when the server offers it, the server not authenticated.
    Prefer,
    /// TLS always; the server authenticated only when a root certificate is given.
    Require,
    /// TLS always; the server's chain must end at a trusted root.
    VerifyCa,
    /// TLS always; chain and host name checked.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> StoreResult<Self> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(StoreError::InvalidInput(format!(
                    "postgres url: sslmode {other:?} is not one of disable, allow, prefer, \
                     require, verify-ca, verify-full"
                )))
            }
        })
    }

    /// libpq's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where trusted CA certificates come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    /// A PEM file.
    File(PathBuf),
    /// The platform's certificate store (`sslrootcert=system`).
    System,
}

/// What the URL asks of the connection, after the TLS settings were taken out of it.
#[derive(Debug)]
pub(crate) struct DbTarget {
    /// Everything else, as tokio-postgres understands it.
    pub(crate) config: tokio_postgres::Config,
    pub(crate) mode: SslMode,
    pub(crate) roots: Option<Roots>,
    /// Whether TLS is used at all: not for `disable`, nor over Unix sockets, nor to an
    /// address given without a host name (`hostaddr` only) under `prefer`/`allow`.
    pub(crate) tls: bool,
}

impl DbTarget {
    /// Parses a `postgres://` URL or a libpq key/value string (`host=… sslmode=…`).
    pub(crate) fn parse(url: &str) -> StoreResult<Self> {
        let (rest, mode, roots) = take_tls_params(url.trim())?;
        let mut config: tokio_postgres::Config = rest
            .parse()
            .map_err(|e| StoreError::InvalidInput(format!("postgres url: {e}")))?;
        // tokio-postgres read an `sslmode` that was not taken out above (a spelling this
        // parser does not read): refuse it rather than silently override it.
        if config.get_ssl_mode() != tokio_postgres::config::SslMode::Prefer {
            return Err(StoreError::InvalidInput(
                "postgres url: write sslmode as sslmode=<mode>, unquoted and unencoded".into(),
            ));
        }
        let roots = match roots.as_deref() {
            None | Some("") => None,
            Some("system") => Some(Roots::System),
            Some(path) => Some(Roots::File(PathBuf::from(path))),
        };
        // libpq 16: `sslrootcert=system` makes verify-full the default and refuses weaker
        // modes (the platform's store trusts every public CA, so only the name pins the
        // server).
        let mode = match (mode, &roots) {
            (None, Some(Roots::System)) => SslMode::VerifyFull,
            (Some(m), Some(Roots::System)) if m != SslMode::VerifyFull => {
                return Err(StoreError::InvalidInput(format!(
                    "postgres url: sslrootcert=system needs sslmode=verify-full, not {}",
                    m.as_str()
                )))
            }
            (m, _) => m.unwrap_or(SslMode::Prefer),
        };
        if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && roots.is_none() {
            return Err(StoreError::InvalidInput(format!(
                "postgres url: sslmode={} needs sslrootcert (a PEM file of the CA \
                 certificates to trust, or `system`)",
                mode.as_str()
            )));
        }
        // TLS needs a host name to send and check: libpq never uses TLS over Unix sockets,
        // and an address given only as `hostaddr` leaves nothing to check a certificate
        // against.
        let hosts = config.get_hosts();
        let named_tcp = hosts
            .iter()
            .filter(|h| matches!(h, tokio_postgres::config::Host::Tcp(_)))
            .count();
        let tls = if named_tcp == hosts.len() && named_tcp > 0 {
            mode != SslMode::Disable
        } else if named_tcp > 0 {
            return Err(StoreError::InvalidInput(
                "postgres url: a host list mixing Unix sockets and TCP hosts is not supported; \
                 list one kind"
                    .into(),
            ));
        } else if hosts.is_empty()
            && matches!(
                mode,
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
            )
        {
            return Err(StoreError::InvalidInput(format!(
                "postgres url: sslmode={} needs a host name (host=) to check the server's \
                 certificate against",
                mode.as_str()
            )));
        } else {
            false
        };
        config.ssl_mode(match mode {
            _ if !tls => tokio_postgres::config::SslMode::Disable,
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        Ok(DbTarget {
            config,
            mode,
            roots,
            tls,
        })
    }

    /// Whether the server's identity is checked before the password is sent.
    pub(crate) fn authenticates_server(&self) -> bool {
        if !self.tls {
            return false;
        }
        match self.mode {
            SslMode::VerifyCa | SslMode::VerifyFull => true,
            SslMode::Require => self.roots.is_some(),
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => false,
        }
    }

    /// The rustls connector this target needs, or `None` for plain TCP (`disable`).
    pub(crate) fn connector(&self) -> StoreResult<Option<MakeRustlsConnect>> {
        if !self.tls {
            return Ok(None);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match (&self.roots, self.mode) {
            // libpq verifies nothing in these modes, a root file or not.
            (_, SslMode::Disable | SslMode::Allow | SslMode::Prefer) | (None, _) => {
                Arc::new(Unauthenticated(provider.clone()))
            }
            (Some(roots), mode) => {
                let webpki = WebPkiServerVerifier::builder_with_provider(
                    load_roots(roots)?,
                    provider.clone(),
                )
                .build()
                .map_err(|e| StoreError::InvalidInput(format!("postgres sslrootcert: {e}")))?;
                if mode == SslMode::VerifyFull {
                    webpki
                } else {
                    // `verify-ca`, and `require` with a root file (libpq's rule).
                    Arc::new(ChainOnly(webpki))
                }
            }
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Internal(format!("postgres tls: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Some(MakeRustlsConnect::new(config)))
    }
}

/// Takes `sslmode` and `sslrootcert` out of `url` (libpq names tokio-postgres does not know
/// or knows fewer values of) and refuses client-certificate settings by name.
fn take_tls_params(url: &str) -> StoreResult<(String, Option<SslMode>, Option<String>)> {
    let mut mode = None;
    let mut roots = None;
    let mut take = |key: &str, value: String| -> StoreResult<bool> {
        match key {
            "sslmode" => mode = Some(SslMode::parse(&value)?),
            "sslrootcert" => roots = Some(value),
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" | "sslsni" => {
                return Err(StoreError::InvalidInput(format!(
                    "postgres url: {key} is not supported (the relayer authenticates with \
                     the URL's password; use sslmode=verify-full with sslrootcert)"
                )))
            }
            _ => return Ok(false),
        }
        Ok(true)
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_string(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    let decode = |text: &str| {
                        percent_encoding::percent_decode_str(text)
                            .decode_utf8()
                            .map(|t| t.into_owned())
                            .map_err(|e| StoreError::InvalidInput(format!("postgres url: {e}")))
                    };
                    if !take(&decode(key)?, decode(value)?)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        // Key/value form, tokenized by libpq's rules (spaces around `=`, single-quoted values
        // with backslash escapes); the TLS settings are cut out and every other byte stays
        // as written.
        let mut kept = String::with_capacity(url.len());
        let mut from = 0;
        for (start, end, key, value) in key_values(url) {
            if take(&key, value)? {
                kept.push_str(&url[from..start]);
                from = end;
            }
        }
        kept.push_str(&url[from..]);
        kept
    };
    Ok((rest, mode, roots))
}

/// The `key = value` settings of a libpq key/value string, each with the byte range it
/// spans (from its key to the end of its value), the key and the unescaped value. Stops at
/// the first malformed setting (tokio-postgres then reports it).
fn key_values(text: &str) -> Vec<(usize, usize, String, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_ws(i);
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = text[start..i].to_string();
        i = skip_ws(i);
        if key.is_empty() || bytes.get(i) != Some(&b'=') {
            break;
        }
        i = skip_ws(i + 1);
        let mut value = Vec::new();
        if bytes.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return out,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < bytes.len() => {
                        value.push(bytes[i + 1]);
                        i += 2;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                value.push(bytes[i]);
                i += 1;
            }
        }
        out.push((start, i, key, String::from_utf8_lossy(&value).into_owned()));
    }
    out
}

fn load_roots(roots: &Roots) -> StoreResult<Arc<RootCertStore>> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    StoreError::InvalidInput(format!(
                        "postgres sslrootcert {}: {e}",
                        path.display()
                    ))
                })?;
            for cert in certs {
                store.add(cert).map_err(|e| {
                    StoreError::InvalidInput(format!(
                        "postgres sslrootcert {}: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
        }
    }
    if store.is_empty() {
        return Err(StoreError::InvalidInput(format!(
            "postgres sslrootcert {roots:?}: no CA certificate found"
        )));
    }
    Ok(Arc::new(store))
}

/// `prefer`/`require` without a root: the channel is encrypted and the handshake's
/// signatures are checked against the certificate presented, but nothing says whose it is
/// (libpq's behaviour for these modes).
#[derive(Debug)]
struct Unauthenticated(Arc<CryptoProvider>);

impl ServerCertVerifier for Unauthenticated {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: webpki's full check except the host name. webpki checks the chain (trust
/// anchor, validity period, key usage) before the name, so a name error means the chain
/// passed.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_leave_the_rest_of_a_url_untouched() {
        let (rest, mode, roots) = take_tls_params(
            "postgres://u:p@db.example:5432/toss?sslmode=verify-full&sslrootcert=%2Fetc%2Ftoss%2Fca%20db.pem&options=-csearch_path%3Dx",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u:p@db.example:5432/toss?options=-csearch_path%3Dx"
        );
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(roots.as_deref(), Some("/etc/toss/ca db.pem"));

        let (rest, mode, roots) = take_tls_params("postgresql://h/d?sslmode=disable").unwrap();
        assert_eq!(
            (rest.as_str(), mode, roots),
            ("postgresql://h/d", Some(SslMode::Disable), None)
        );

        let (rest, mode, roots) =
            take_tls_params("host=h dbname=d sslmode=require sslrootcert=/ca.pem user=u").unwrap();
        assert_eq!(rest, "host=h dbname=d   user=u");
        assert_eq!(mode, Some(SslMode::Require));
        assert_eq!(roots.as_deref(), Some("/ca.pem"));
        // Every other byte as written: a quoted password keeps its run of spaces, and a
        // setting's text inside a quoted value is not a setting.
        let (rest, _, _) =
            take_tls_params("host=h password='a  b' sslmode=disable dbname=d").unwrap();
        assert_eq!(rest, "host=h password='a  b'  dbname=d");
        let parsed = DbTarget::parse("host=h password='a  b' sslmode=disable dbname=d").unwrap();
        assert_eq!(parsed.config.get_password(), Some(&b"a  b"[..]));
        let (rest, mode, _) =
            take_tls_params("host=h password='a sslmode=disable b' dbname=d").unwrap();
        assert_eq!(
            (rest.as_str(), mode),
            ("host=h password='a sslmode=disable b' dbname=d", None)
        );
        // libpq's other spellings: spaces around '=', quoted values, escapes.
        let (_, mode, roots) =
            take_tls_params(r"host=h sslmode = 'verify-full' sslrootcert='/etc/ca\'s dir/ca.pem'")
                .unwrap();
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(roots.as_deref(), Some("/etc/ca's dir/ca.pem"));
        // A percent-encoded key in the URL form is the same key.
        let (rest, mode, _) = take_tls_params("postgres://h/d?ssl%6Dode=require").unwrap();
        assert_eq!(
            (rest.as_str(), mode),
            ("postgres://h/d", Some(SslMode::Require))
        );

        let (rest, mode, _) = take_tls_params("postgres://h/d").unwrap();
        assert_eq!((rest.as_str(), mode), ("postgres://h/d", None));
    }

    #[test]
    fn the_default_is_libpqs_prefer_and_modes_map_to_the_wire() {
        let t = DbTarget::parse("postgres://u@h/d").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        assert!(!t.authenticates_server());
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Prefer
        );
        assert!(t.connector().unwrap().is_some());

        let t = DbTarget::parse("postgres://u@h/d?sslmode=disable").unwrap();
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        assert!(t.connector().unwrap().is_none());

        let t = DbTarget::parse("postgres://u@h/d?sslmode=require").unwrap();
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert!(!t.authenticates_server());

        let t = DbTarget::parse("postgres://u@h/d?sslmode=verify-ca&sslrootcert=/etc/toss/ca.pem")
            .unwrap();
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(t.roots, Some(Roots::File("/etc/toss/ca.pem".into())));
        assert!(t.authenticates_server());
    }

    #[test]
    fn tls_needs_a_host_name_and_system_roots_need_verify_full() {
        let t = DbTarget::parse("host=/var/run/postgresql dbname=d").unwrap();
        assert!(
            !t.tls && t.connector().unwrap().is_none(),
            "no TLS over a Unix socket"
        );
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        let t = DbTarget::parse("hostaddr=127.0.0.1 dbname=d").unwrap();
        assert!(!t.tls, "no name to check under prefer: plain");
        let t = DbTarget::parse("postgres://u@db.example/d?sslrootcert=system").unwrap();
        assert_eq!(
            t.mode,
            SslMode::VerifyFull,
            "libpq 16: system roots mean verify-full"
        );
        assert!(t.tls && t.authenticates_server());
    }

    #[test]
    fn settings_that_cannot_be_honoured_are_refused_by_name() {
        let err = |url: &str| match DbTarget::parse(url) {
            Err(StoreError::InvalidInput(m)) => m,
            other => panic!("{url}: expected InvalidInput, got {other:?}"),
        };
        assert!(err("postgres://h/d?sslmode=verify-full").contains("needs sslrootcert"));
        assert!(err("postgres://h/d?sslmode=verify-ca").contains("needs sslrootcert"));
        assert!(err("postgres://h/d?sslmode=strict").contains("sslmode \"strict\""));
        assert!(err("postgres://h/d?sslcert=/c.pem").contains("sslcert is not supported"));
        assert!(err("host=h sslkey=/k.pem").contains("sslkey is not supported"));
        assert!(err("postgres://h/d?sslrootcert=%FF").contains("postgres url"));
        // An sslmode tokio-postgres would read but this parser did not take out (here: a
        // '?' in the password moved the query) is refused, never silently overridden.
        assert!(err("postgres://u:p?x@h/d?sslmode=require").contains("write sslmode as"));
        assert!(err("postgres://h/d?sslmode=require&sslrootcert=system")
            .contains("needs sslmode=verify-full"));
        assert!(err("hostaddr=127.0.0.1 sslmode=require").contains("needs a host name"));
        assert!(err("host=/tmp,db.example sslmode=prefer").contains("mixing Unix sockets"));

        // A root file that does not exist or holds no certificate fails before connecting.
        let t = DbTarget::parse(
            "postgres://h/d?sslmode=verify-full&sslrootcert=/nonexistent/toss-ca.pem",
        )
        .unwrap();
        match t.connector() {
            Err(StoreError::InvalidInput(m)) => {
                assert!(m.contains("/nonexistent/toss-ca.pem"), "{m}")
            }
            other => panic!(
                "expected InvalidInput, got {:?}",
                other.map(|c| c.is_some())
            ),
        }
        let empty = tempfile::NamedTempFile::new().unwrap();
        let t = DbTarget::parse(&format!(
            "postgres://h/d?sslmode=verify-full&sslrootcert={}",
            empty.path().display()
        ))
        .unwrap();
        match t.connector() {
            Err(StoreError::InvalidInput(m)) => assert!(m.contains("no CA certificate"), "{m}"),
            other => panic!(
                "expected InvalidInput, got {:?}",
                other.map(|c| c.is_some())
            ),
        }
    }
}
