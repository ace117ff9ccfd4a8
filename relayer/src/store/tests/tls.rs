//! TLS to a real PostgreSQL server (`scripts/pg` gives its cluster a certificate for
//! 127.0.0.1 and localhost, signed by a test CA whose path `scripts/pg ca` prints and
//! `scripts/test` exports as `TOSS_TEST_DATABASE_CA`).
//!
//! Each case connects a whole [`PgStore`] (pool, migrations, a write) and asks the server,
//! not the client, whether the session is encrypted (`pg_stat_ssl`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{intent, TestResult};
use crate::store::{PgStore, SslMode, Store, StoreError};

/// The test CA's certificate: `TOSS_TEST_DATABASE_CA`, else what `scripts/pg ca` prints.
fn ca_file() -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("TOSS_TEST_DATABASE_CA").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg");
    let out = Command::new(&script).arg("ca").output()?;
    if !out.status.success() {
        return Err(format!(
            "{} ca failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let path = String::from_utf8(out.stdout)?
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    Ok(PathBuf::from(path))
}

/// The pieces of the test server's URL, to rebuild it with other TLS settings.
struct Server {
    port: u16,
    user: String,
    password: String,
    dbname: String,
    /// The URL of a fresh schema (whatever `TOSS_TEST_DATABASE_URL` says about TLS).
    schema_url: String,
    ca: PathBuf,
}

async fn server(test: &str) -> Result<Option<Server>, Box<dyn std::error::Error>> {
    let Some(schema_url) = super::pg_url(test).await? else {
        return Ok(None);
    };
    let base = std::env::var("TOSS_TEST_DATABASE_URL")?;
    let cfg = crate::store::postgres::tls::DbTarget::parse(&base)?.config;
    let ca = ca_file()?;
    if !ca.is_file() {
        return Err(format!("test CA {} is missing (scripts/pg ca)", ca.display()).into());
    }
    Ok(Some(Server {
        port: cfg.get_ports().first().copied().unwrap_or(5432),
        user: cfg.get_user().unwrap_or("toss").to_string(),
        password: String::from_utf8(cfg.get_password().unwrap_or_default().to_vec())?,
        dbname: cfg.get_dbname().unwrap_or("toss").to_string(),
        schema_url,
        ca,
    }))
}

impl Server {
    /// A key/value connection string: `host` is the name checked against the certificate,
    /// the connection itself always goes to 127.0.0.1.
    fn conn(&self, host: &str, tls: &str) -> String {
        let schema = self
            .schema_url
            .rsplit_once("search_path%3D")
            .map(|(_, s)| s.to_string())
            .unwrap_or_default();
        format!(
            "host={host} hostaddr=127.0.0.1 port={} user={} password={} dbname={} \
             options=-csearch_path={schema} {tls}",
            self.port, self.user, self.password, self.dbname
        )
    }
}

/// Connects, writes, and returns the TLS version the server reports (`None`: plain).
async fn connect_and_write(conn: &str) -> Result<(PgStore, Option<String>), StoreError> {
    let store = PgStore::connect(conn).await?;
    store.insert_intents(vec![intent(1)]).await?;
    let version = store.tls_version().await?;
    Ok((store, version))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_authenticates_the_server_by_ip_and_by_name() -> TestResult {
    let Some(s) = server("verify_full_authenticates_the_server").await? else {
        return Ok(());
    };
    let tls = format!("sslmode=verify-full sslrootcert={}", s.ca.display());
    for host in ["127.0.0.1", "localhost"] {
        let (store, version) = connect_and_write(&s.conn(host, &tls)).await?;
        assert!(
            version.as_deref().is_some_and(|v| v.starts_with("TLS")),
            "{host}: the server reports no TLS: {version:?}"
        );
        assert_eq!(store.ssl_mode(), SslMode::VerifyFull);
        assert!(store.server_authenticated());
        assert!(store.is_local());
    }
    // The URL form, as an operator writes it (the path percent-encoded).
    let ca = s.ca.display().to_string().replace('/', "%2F");
    let url = format!("{}&sslmode=verify-full&sslrootcert={ca}", s.schema_url);
    let (_, version) = connect_and_write(&url).await?;
    assert!(version.is_some(), "URL form: no TLS");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_prove_its_identity_gets_no_password() -> TestResult {
    let Some(s) = server("a_server_that_cannot_prove_its_identity").await? else {
        return Ok(());
    };
    // A certificate for 127.0.0.1/localhost, reached under another name: verify-full
    // refuses, verify-ca (chain only) accepts.
    let ca = s.ca.display();
    let err = connect_and_write(&s.conn(
        "db.invalid",
        &format!("sslmode=verify-full sslrootcert={ca}"),
    ))
    .await
    .err()
    .ok_or("verify-full accepted a certificate for another name")?;
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("not valid for name"), "{err}");
    let (store, version) =
        connect_and_write(&s.conn("db.invalid", &format!("sslmode=verify-ca sslrootcert={ca}")))
            .await?;
    assert!(version.is_some());
    assert!(store.server_authenticated());
    assert!(!store.is_local(), "a host name that is not loopback");

    // A CA that did not sign the server's certificate: refused in every verifying mode,
    // `require` with a root file included (libpq's rule: it then verifies the chain).
    let dir = tempfile::tempdir()?;
    let other = dir.path().join("other-ca.crt");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=not the TOSS test CA",
            "-keyout",
        ])
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other)
        .output()?;
    assert!(
        status.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    for mode in ["verify-full", "verify-ca", "require"] {
        let conn = s.conn(
            "127.0.0.1",
            &format!("sslmode={mode} sslrootcert={}", other.display()),
        );
        let err = connect_and_write(&conn)
            .await
            .err()
            .ok_or_else(|| format!("{mode}: accepted a server signed by another CA"))?;
        assert!(err.to_string().contains("UnknownIssuer"), "{mode}: {err}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_decides_whether_the_session_is_encrypted() -> TestResult {
    let Some(s) = server("sslmode_decides_whether_the_session_is_encrypted").await? else {
        return Ok(());
    };
    // libpq's default (`prefer`) and `require` encrypt without authenticating the server.
    for tls in ["", "sslmode=prefer", "sslmode=allow", "sslmode=require"] {
        let (store, version) = connect_and_write(&s.conn("127.0.0.1", tls)).await?;
        assert!(version.is_some(), "{tls:?}: not encrypted");
        assert!(!store.server_authenticated(), "{tls:?}");
    }
    let (store, version) = connect_and_write(&s.conn("127.0.0.1", "sslmode=disable")).await?;
    assert_eq!(version, None, "sslmode=disable is plain TCP");
    assert_eq!(store.ssl_mode(), SslMode::Disable);
    // A refused setting fails before any connection is made, naming the setting.
    match PgStore::connect(&s.conn("127.0.0.1", "sslmode=verify-full")).await {
        Err(StoreError::InvalidInput(m)) => assert!(m.contains("sslrootcert"), "{m}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    Ok(())
}
