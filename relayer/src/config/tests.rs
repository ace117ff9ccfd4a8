//! Configuration tests. The environment is always a closure over a map.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

const EXAMPLE: &str = include_str!("../../relayer.example.toml");
const TOKEN: &str = "s3cr3t-admin-token-0123456789abcdef";

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn invalid(config: &Config) -> Vec<String> {
    match config.validate() {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn no_file_means_defaults() -> Result<(), ConfigError> {
    let config = Config::load(None)?;
    assert_eq!(config, Config::default());
    config.validate()?;
    assert_eq!(config.server.listen, DEFAULT_LISTEN);
    assert_eq!(config.server.max_body_bytes, 64 * 1024);
    assert_eq!(config.cluster.cluster, Cluster::Localnet);
    assert_eq!(
        config.cluster.effective_rpc_url().as_deref(),
        Some("http://127.0.0.1:8899")
    );
    assert_eq!(config.intake.max_lifetime_seconds, 604_800);
    assert_eq!(config.submit.max_retries, DEFAULT_MAX_RETRIES);
    assert_eq!(config.store.kind, StoreKind::Sqlite);
    assert_eq!(config.log.format, LogFormat::Text);
    Ok(())
}

#[test]
fn empty_file_and_partial_tables_use_defaults() -> Result<(), ConfigError> {
    assert_eq!(Config::parse("", "empty")?, Config::default());
    let c = Config::parse("[batch]\nmax_intents = 4\n", "partial")?;
    assert_eq!(c.batch.max_intents, 4);
    assert_eq!(c.batch.max_wait_ms, DEFAULT_BATCH_MAX_WAIT_MS);
    Ok(())
}

#[test]
fn example_file_shows_the_defaults_and_validates() -> Result<(), ConfigError> {
    let config = Config::parse(EXAMPLE, "relayer.example.toml")?;
    assert_eq!(config, Config::default(), "example must show the defaults");
    config.validate()?;
    Ok(())
}

#[test]
fn example_file_optional_keys_are_valid() -> Result<(), ConfigError> {
    // Uncomment every `#key = value` line: each must be a known, valid key.
    let mut uncommented = 0;
    let text: String = EXAMPLE
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => {
                uncommented += 1;
                format!("{rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    assert_eq!(uncommented, 9);
    let config = Config::parse(&text, "uncommented example")?;
    config.validate()?;
    assert!(config.server.admin_token.is_some());
    assert!(config.submit.compute_unit_limit.is_some());
    assert_eq!(config.store.instance_id.as_deref(), Some("relayer-a"));
    assert!(config.tables.state_path.is_some());
    Ok(())
}

#[test]
fn the_settle_form_is_one_of_three_words() {
    for (word, form) in [
        ("auto", Verification::Auto),
        ("compact", Verification::Compact),
        ("precompile", Verification::Precompile),
    ] {
        let c =
            Config::parse(&format!("[submit]\nverification = \"{word}\"\n"), "t").expect("parses");
        assert_eq!(c.submit.verification, form);
        assert_eq!(form.as_str(), word);
        assert_eq!(word.parse::<Verification>(), Ok(form));
    }
    let e = Config::parse("[submit]\nverification = \"fast\"\n", "t").unwrap_err();
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("`fast`"),
        "{e}"
    );
    assert!("fast".parse::<Verification>().is_err());
}

#[test]
fn load_reads_a_file_and_reports_missing_ones() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("relayer.toml");
    std::fs::write(&path, "[server]\nlisten = \"0.0.0.0:9000\"\n")?;
    assert_eq!(Config::load(Some(&path))?.server.listen, "0.0.0.0:9000");
    let missing = dir.path().join("nope.toml");
    assert!(matches!(
        Config::load(Some(&missing)),
        Err(ConfigError::Read { .. })
    ));
    Ok(())
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    for (text, key) in [
        (
            "[server]\nlisten = \"127.0.0.1:1\"\nlisten_port = 80\n",
            "listen_port",
        ),
        ("[submit]\nmax_retry = 3\n", "max_retry"),
        ("[metrics]\nenabled = true\n", "metrics"),
        ("top_level = 1\n", "top_level"),
    ] {
        match Config::parse(text, "t.toml") {
            Err(e @ ConfigError::Parse { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(key), "{msg}");
                assert!(msg.contains("t.toml"), "{msg}");
            }
            other => panic!("{key}: expected parse error, got {other:?}"),
        }
    }
}

#[test]
fn parse_errors_give_line_and_column_but_not_the_line() {
    let text = "[server]\nadmin_token = 12345678901234567890123456789012345\n";
    match Config::parse(text, "t.toml") {
        Err(ConfigError::Parse {
            line,
            column,
            message,
            ..
        }) => {
            assert_eq!(line, 2);
            assert!(column > 0);
            assert!(
                !message.contains("12345678901234567890123456789012345"),
                "{message}"
            );
        }
        other => panic!("expected parse error, got {other:?}"),
    }
    assert!(matches!(
        Config::parse("[cluster]\ncluster = \"moonnet\"\n", "t"),
        Err(ConfigError::Parse { line: 2, .. })
    ));
}

#[test]
fn env_overrides_apply() -> Result<(), ConfigError> {
    let mut c = Config::default();
    c.apply_env(env_of(&[
        (ENV_SOLANA_CLUSTER, "mainnet"),
        (ENV_TOSS_PROGRAM_ID, "11111111111111111111111111111111"),
        (ENV_TOSS_FEE_PAYER, "~/keys/payer.json"),
        (ENV_MAX_SETTLEMENT_RETRIES, "7"),
        (ENV_DEFAULT_INTENT_EXPIRY_SECONDS, " 600 "),
        (ENV_TOSS_ADMIN_TOKEN, TOKEN),
        (ENV_TOSS_STORE_PATH, "/var/lib/toss/relayer.sqlite"),
        (ENV_HOME, "/home/toss"),
    ]))?;
    c.validate()?;
    assert_eq!(c.cluster.cluster, Cluster::MainnetBeta);
    assert_eq!(
        c.cluster.effective_rpc_url().as_deref(),
        Some("https://api.mainnet-beta.solana.com")
    );
    assert_eq!(c.cluster.program_id, "11111111111111111111111111111111");
    assert_eq!(
        c.cluster.fee_payer.expose(),
        Path::new("/home/toss/keys/payer.json")
    );
    assert_eq!(c.submit.max_retries, 7);
    assert_eq!(c.intake.default_intent_expiry_seconds, 600);
    assert_eq!(
        c.server.admin_token.as_ref().map(|t| t.expose().as_str()),
        Some(TOKEN)
    );
    assert_eq!(c.store.path, PathBuf::from("/var/lib/toss/relayer.sqlite"));

    let mut c = Config::default();
    c.apply_env(env_of(&[
        (ENV_SOLANA_RPC_URL, "https://rpc.example.org"),
        (ENV_SOLANA_CLUSTER, ""),
    ]))?;
    assert_eq!(c.cluster.cluster, Cluster::Localnet, "empty value ignored");
    assert_eq!(
        c.cluster.effective_rpc_url().as_deref(),
        Some("https://rpc.example.org")
    );
    // No HOME: the path is left as it is.
    assert_eq!(c.cluster.fee_payer.expose(), Path::new(DEFAULT_FEE_PAYER));
    Ok(())
}

#[test]
fn cluster_monikers() -> Result<(), ConfigError> {
    for (moniker, want) in [
        ("localnet", Cluster::Localnet),
        ("local", Cluster::Localnet),
        ("localhost", Cluster::Localnet),
        ("devnet", Cluster::Devnet),
        ("testnet", Cluster::Testnet),
        ("mainnet-beta", Cluster::MainnetBeta),
        ("mainnet", Cluster::MainnetBeta),
        ("local-inprocess", Cluster::LocalInprocess),
    ] {
        let mut c = Config::parse(&format!("[cluster]\ncluster = \"{moniker}\"\n"), "t")?;
        assert_eq!(c.cluster.cluster, want);
        c.apply_env(env_of(&[(ENV_SOLANA_CLUSTER, moniker)]))?;
        assert_eq!(c.cluster.cluster, want);
    }
    let inproc = Config::parse("[cluster]\ncluster = \"local-inprocess\"\n", "t")?;
    assert_eq!(inproc.cluster.effective_rpc_url(), None);
    let devnet = Config::parse("[cluster]\ncluster = \"devnet\"\n", "t")?;
    assert_eq!(
        devnet.cluster.effective_rpc_url().as_deref(),
        Some("https://api.devnet.solana.com")
    );
    let testnet = Config::parse("[cluster]\ncluster = \"testnet\"\n", "t")?;
    assert_eq!(
        testnet.cluster.effective_rpc_url().as_deref(),
        Some("https://api.testnet.solana.com")
    );
    Ok(())
}

#[test]
fn bad_env_values_name_the_variable() {
    for (var, value) in [
        (ENV_SOLANA_CLUSTER, "moonnet"),
        (ENV_MAX_SETTLEMENT_RETRIES, "five"),
        (ENV_MAX_SETTLEMENT_RETRIES, "-1"),
        (ENV_DEFAULT_INTENT_EXPIRY_SECONDS, "1h"),
    ] {
        let mut c = Config::default();
        match c.apply_env(env_of(&[(var, value)])) {
            Err(e @ ConfigError::Env { .. }) => assert!(e.to_string().contains(var), "{e}"),
            other => panic!("{var}={value}: expected Env error, got {other:?}"),
        }
    }
    // Parsable but out of range: caught by validate.
    let r = Config::resolve(None, env_of(&[(ENV_MAX_SETTLEMENT_RETRIES, "21")]));
    assert!(matches!(r, Err(ConfigError::Invalid(p)) if p[0].contains("max_retries")));
}

/// Each rule, broken alone, is reported first, naming its key.
#[test]
fn every_validation_rule_has_a_failing_case() {
    type Breaker = fn(&mut Config);
    let cases: Vec<(&str, Breaker)> = vec![
        ("server.listen", |c| c.server.listen = "localhost".into()),
        ("server.max_body_bytes", |c| c.server.max_body_bytes = 0),
        ("server.max_bulk", |c| c.server.max_bulk = 0),
        ("server.rate_limit_per_ip_per_s", |c| {
            c.server.rate_limit_per_ip_per_s = 0
        }),
        ("server.rate_limit_per_ip_burst", |c| {
            c.server.rate_limit_per_ip_burst = 0
        }),
        ("server.rate_limit_per_sender_per_s", |c| {
            c.server.rate_limit_per_sender_per_s = 0
        }),
        ("server.rate_limit_per_sender_burst", |c| {
            c.server.rate_limit_per_sender_burst = 0
        }),
        ("server.admin_token", |c| {
            c.server.admin_token = Some(Redacted::new("short".into()))
        }),
        ("cluster.rpc_url", |c| {
            c.cluster.rpc_url = Some("ws://x".into())
        }),
        ("cluster.rpc_url", |c| {
            c.cluster.rpc_url = Some("https://".into())
        }),
        ("cluster.program_id", |c| {
            c.cluster.program_id = "not-base58!".into()
        }),
        ("cluster.program_id", |c| {
            c.cluster.program_id = "1111".into()
        }),
        ("cluster.fee_payer", |c| {
            c.cluster.fee_payer = Redacted::new(PathBuf::new())
        }),
        ("cluster.fee_payer", |c| {
            c.cluster.fee_payer = Redacted::new(PathBuf::from("[1,2,3]"))
        }),
        ("cluster.fee_payer", |c| {
            let key = bs58::encode([7u8; 64]).into_string();
            c.cluster.fee_payer = Redacted::new(PathBuf::from(key))
        }),
        ("store.kind", |c| c.store.kind = StoreKind::Postgres),
        ("store.lease_ms", |c| c.store.lease_ms = 10),
        ("store.instance_id", |c| {
            c.store.instance_id = Some("has space".into())
        }),
        ("store.path", |c| c.store.path = PathBuf::new()),
        ("intake.max_lifetime_seconds", |c| {
            c.intake.max_lifetime_seconds = 0
        }),
        ("intake.max_open_per_nonce", |c| {
            c.intake.max_open_per_nonce = 0
        }),
        ("intake.max_amount_lamports", |c| {
            c.intake.max_amount_lamports = 0;
            c.intake.dust_lamports = 0;
        }),
        ("intake.dust_lamports", |c| {
            c.intake.dust_lamports = u64::MAX
        }),
        ("intake.default_intent_expiry_seconds", |c| {
            c.intake.default_intent_expiry_seconds = 0
        }),
        ("intake.default_intent_expiry_seconds", |c| {
            c.intake.default_intent_expiry_seconds = 604_801
        }),
        ("intake.allowed_mints", |c| {
            c.intake.allowed_mints = vec![
                "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v".into(),
                "nope".into(),
            ]
        }),
        ("batch.max_wait_ms", |c| c.batch.max_wait_ms = 0),
        ("batch.max_intents", |c| c.batch.max_intents = 0),
        ("batch.max_intents", |c| c.batch.max_intents = 65),
        ("batch.lookup_table", |c| {
            c.batch.lookup_table = Some("x".into())
        }),
        ("tables.interval_ms", |c| c.tables.interval_ms = 10),
        ("tables.interval_ms", |c| c.tables.interval_ms = 60_001),
        ("tables.cover_wait_ms", |c| c.tables.cover_wait_ms = 60_001),
        ("tables.idle_close_seconds", |c| {
            c.tables.idle_close_seconds = 0
        }),
        ("submit.compute_unit_limit", |c| {
            c.submit.compute_unit_limit = Some(0)
        }),
        ("submit.compute_unit_limit", |c| {
            c.submit.compute_unit_limit = Some(1_400_001)
        }),
        ("submit.max_retries", |c| c.submit.max_retries = 21),
        ("submit.backoff_initial_ms", |c| {
            c.submit.backoff_initial_ms = 0
        }),
        ("submit.backoff_initial_ms", |c| {
            c.submit.backoff_initial_ms = 6_000
        }),
        ("submit.confirm_timeout_ms", |c| {
            c.submit.confirm_timeout_ms = 0
        }),
        ("submit.in_flight_max", |c| c.submit.in_flight_max = 0),
        ("submit.in_flight_max", |c| c.submit.in_flight_max = 1_025),
        ("submit.poll_interval_ms", |c| c.submit.poll_interval_ms = 0),
        ("submit.poll_interval_ms", |c| {
            c.submit.poll_interval_ms = 10_001
        }),
        ("submit.breaker_failure_ratio", |c| {
            c.submit.breaker_failure_ratio = 0.0
        }),
        ("submit.breaker_failure_ratio", |c| {
            c.submit.breaker_failure_ratio = 1.5
        }),
        ("submit.breaker_failure_ratio", |c| {
            c.submit.breaker_failure_ratio = f64::NAN
        }),
        ("submit.breaker_window", |c| c.submit.breaker_window = 0),
        ("submit.breaker_cooldown_ms", |c| {
            c.submit.breaker_cooldown_ms = 0
        }),
        ("reconcile.sweep_interval_ms", |c| {
            c.reconcile.sweep_interval_ms = 0
        }),
        ("log.filter", |c| c.log.filter = " ".into()),
    ];
    for (key, breaker) in cases {
        let mut c = Config::default();
        breaker(&mut c);
        let problems = invalid(&c);
        // Breaking a limit may also break a rule relating it to another key.
        assert!(problems.len() <= 2, "{key}: {problems:?}");
        assert!(problems[0].starts_with(key), "{key}: {problems:?}");
    }
}

#[test]
fn a_postgres_url_is_checked_before_any_connection() -> Result<(), ConfigError> {
    let with = |url: &str| -> Result<Config, ConfigError> {
        Config::parse(
            &format!("[store]\nkind = \"postgres\"\nurl = \"{url}\"\n"),
            "t",
        )
    };
    with("postgres://u:pw@h/db?sslmode=require")?.validate()?;
    with("host=h user=u password=pw sslmode=disable")?.validate()?;
    for (url, says) in [
        (
            "postgres://u:pw@h/db?sslmode=verify-full",
            "needs sslrootcert",
        ),
        ("postgres://u:pw@h/db?sslmode=strict", "sslmode"),
        (
            "postgres://u:pw@h/db?sslcert=/c.pem",
            "sslcert is not supported",
        ),
        (
            "postgres://u:pw@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
            "/nonexistent/ca.pem",
        ),
        ("postgres://u:pw@h/db?bogus_option=1", "store.url"),
    ] {
        let problems = invalid(&with(url)?);
        assert_eq!(problems.len(), 1, "{url}: {problems:?}");
        assert!(
            problems[0].starts_with("store.url: "),
            "{url}: {problems:?}"
        );
        assert!(problems[0].contains(says), "{url}: {problems:?}");
        assert!(
            !problems[0].contains("pw@h"),
            "the password leaked: {problems:?}"
        );
    }
    Ok(())
}

#[test]
fn all_problems_are_reported_together() {
    let mut c = Config::default();
    c.batch.max_wait_ms = 0;
    c.submit.max_retries = 99;
    c.server.listen = "nope".into();
    let err = c
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(err.matches("; ").count(), 2, "{err}");
    assert!(err.contains("batch.max_wait_ms") && err.contains("max_retries"));
}

#[test]
fn secrets_never_appear_in_debug_or_errors() -> Result<(), ConfigError> {
    let payer = "/secret/place/payer-keypair.json";
    let mut c = Config::parse(
        &format!(
            "[server]\nadmin_token = \"{TOKEN}\"\n[cluster]\nfee_payer = \"{payer}\"\n\
             [store]\nurl = \"postgres://u:pw@h/db\"\n"
        ),
        "t",
    )?;
    c.validate()?;
    let debug = format!("{c:?} {:?} {:?}", c.server, c.cluster);
    for secret in [TOKEN, payer, "pw@h"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert!(debug.contains("<redacted>"));

    c.apply_env(env_of(&[(ENV_TOSS_ADMIN_TOKEN, "tooshort-secret")]))?;
    let err = c
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("admin_token") && !err.contains("tooshort-secret"),
        "{err}"
    );
    Ok(())
}

#[test]
fn home_expansion() {
    let home = Some("/home/t");
    assert_eq!(
        expand_home(Path::new("~/a/b"), home),
        PathBuf::from("/home/t/a/b")
    );
    assert_eq!(expand_home(Path::new("~"), home), PathBuf::from("/home/t"));
    assert_eq!(
        expand_home(Path::new("~other/a"), home),
        PathBuf::from("~other/a")
    );
    assert_eq!(expand_home(Path::new("/abs"), home), PathBuf::from("/abs"));
    assert_eq!(expand_home(Path::new("~/a"), None), PathBuf::from("~/a"));
}
