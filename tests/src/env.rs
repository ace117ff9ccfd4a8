//! A `solana-program-test` harness running the real program, natively or as the deployable
//! `.so`, with the config initialized, funded users, vaults and durable nonces.

use crate::client::*;
use solana_account::Account;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_instruction::{error::InstructionError, Instruction};
use solana_keypair::Keypair;
use solana_program_test::{ProgramTest, ProgramTestContext};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use std::path::PathBuf;
use toss_intent_processor::{
    constants::RECENT_BLOCKHASHES_ID, error::TossError, instructions::ConfigInitializeArgs,
    intent::Intent, nonce::read_nonce, state::NonceAuthority,
};
use toss_sdk::cluster::{add_program, LocalProgram};

/// How the program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Compiled into the test binary (`processor!`): fast, debuggable; compute units meaningless.
    Native,
    /// The deployable `target/deploy/toss_intent_processor.so` in the SBF VM.
    Bpf,
}

/// Max intent lifetime the default config uses (seconds).
pub const LIFETIME_SECS: i64 = 3_600;
/// Relayer fee cap the default config uses (lamports).
pub const FEE_CAP: u64 = 50_000;
/// Withdrawal delay the default config uses (seconds).
pub const WITHDRAWAL_DELAY_SECS: i64 = 7_200;

/// One lamport-per-SOL.
pub const SOL: u64 = 1_000_000_000;

/// Where the deployable program is: `$BPF_OUT_DIR` (or `$SBF_OUT_DIR`), else the workspace's
/// `target/deploy`, as `anchor build` and `shared/tools/sbf/build.sh` write it.
pub fn program_so_path() -> PathBuf {
    let dir = std::env::var_os("BPF_OUT_DIR")
        .or_else(|| std::env::var_os("SBF_OUT_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy"));
    dir.join("toss_intent_processor.so")
}

/// A transaction's outcome with its logs and compute units.
#[derive(Debug)]
pub struct TxResult {
    /// The transaction's result.
    pub result: Result<(), TransactionError>,
    /// Program logs.
    pub logs: Vec<String>,
    /// Compute units the transaction consumed.
    pub compute_units: u64,
}

impl TxResult {
    /// Panics with the logs unless the transaction succeeded.
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.result.is_ok(),
            "transaction failed: {:?}\n{}",
            self.result,
            self.logs.join("\n")
        );
        self
    }

    /// Asserts the transaction failed in instruction `ix` with `TossError` `err`.
    pub fn assert_toss_error(&self, ix: u8, err: TossError) {
        assert_eq!(
            self.result,
            Err(TransactionError::InstructionError(
                ix,
                InstructionError::Custom(toss_error_code(err))
            )),
            "expected {err:?}; logs:\n{}",
            self.logs.join("\n")
        );
    }

    /// The settle outcomes logged by the program.
    pub fn outcomes(&self) -> Vec<crate::Outcome> {
        crate::outcomes(&self.logs)
    }
}

/// The numeric code of a `TossError` (Anchor's 6000 offset).
pub fn toss_error_code(err: TossError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + err as u32
}

/// The running test cluster and its actors.
pub struct Env {
    /// program-test's context.
    pub ctx: ProgramTestContext,
    /// How the program runs.
    pub mode: Mode,
    /// The program's upgrade authority (recorded in the injected ProgramData account).
    pub upgrade_authority: Keypair,
    /// The config admin.
    pub admin: Keypair,
    /// A relayer that signs settle instructions and collects fees.
    pub relayer: Keypair,
}

impl Env {
    /// A cluster with the program loaded and the config initialized with the defaults.
    pub async fn start(mode: Mode) -> Self {
        let mut env = Self::start_uninitialized(mode).await;
        let authority = env.upgrade_authority.insecure_clone();
        let args = env.default_config_args();
        env.send(
            &[config_initialize_ix(&authority.pubkey(), args)],
            &[&authority],
        )
        .await
        .assert_ok();
        env
    }

    /// A cluster with the program loaded but no config.
    pub async fn start_uninitialized(mode: Mode) -> Self {
        let upgrade_authority = Keypair::new();
        let admin = Keypair::new();
        let relayer = Keypair::new();
        let mut pt = ProgramTest::default();
        let program = match mode {
            Mode::Native => LocalProgram::Native,
            Mode::Bpf => {
                let path = program_so_path();
                assert!(
                    path.exists(),
                    "BPF mode needs the deployable program at {}; build it with \
                     ../shared/tools/sbf/build.sh toss-intent-processor or anchor build",
                    path.display()
                );
                LocalProgram::Bpf(path)
            }
        };
        add_program(&mut pt, &program, &upgrade_authority.pubkey()).expect("program");
        for key in [upgrade_authority.pubkey(), admin.pubkey(), relayer.pubkey()] {
            pt.add_account(key, system_account(100 * SOL));
        }
        let ctx = pt.start_with_context().await;
        Self {
            ctx,
            mode,
            upgrade_authority,
            admin,
            relayer,
        }
    }

    /// The config the default environment is initialized with.
    pub fn default_config_args(&self) -> ConfigInitializeArgs {
        ConfigInitializeArgs {
            admin: self.admin.pubkey(),
            max_intent_lifetime_secs: LIFETIME_SECS,
            max_relayer_fee: FEE_CAP,
            withdrawal_delay_secs: WITHDRAWAL_DELAY_SECS,
            paused: false,
            withdrawal_window_secs:
                toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
        }
    }

    /// Sends `ixs` with the context payer paying fees, signed by `signers` too.
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let blockhash = self.fresh_blockhash().await;
        let payer = self.ctx.payer.insecure_clone();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
        self.send_tx(tx).await
    }

    /// Sends a prepared transaction.
    pub async fn send_tx(&mut self, tx: Transaction) -> TxResult {
        let out = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .expect("banks client transport");
        let (logs, compute_units) = out
            .metadata
            .map(|m| (m.log_messages, m.compute_units_consumed))
            .unwrap_or_default();
        TxResult {
            result: out.result,
            logs,
            compute_units,
        }
    }

    /// A blockhash registered after every earlier transaction of this test executed (so a
    /// nonce those transactions advanced is never "set in the current blockhash" any more).
    pub async fn fresh_blockhash(&mut self) -> Hash {
        self.ctx.last_blockhash = self
            .ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .expect("latest blockhash");
        let hash = self
            .ctx
            .get_new_latest_blockhash()
            .await
            .expect("new blockhash");
        self.ctx.last_blockhash = hash;
        hash
    }

    /// Like [`Env::settle`] but on the latest blockhash as it is, without waiting for a new one.
    pub async fn settle_now(&mut self, signed: &[SignedIntent], fees: &[u64]) -> TxResult {
        let relayer = self.relayer.insecure_clone();
        let payer = self.ctx.payer.insecure_clone();
        let blockhash = self
            .ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .expect("blockhash");
        let tx = Transaction::new_signed_with_payer(
            &settle_ixs(&relayer.pubkey(), signed, fees),
            Some(&payer.pubkey()),
            &[&payer, &relayer],
            blockhash,
        );
        self.send_tx(tx).await
    }

    /// Settles `signed` with `fees`, the relayer signing.
    pub async fn settle(&mut self, signed: &[SignedIntent], fees: &[u64]) -> TxResult {
        let relayer = self.relayer.insecure_clone();
        let ixs = settle_ixs(&relayer.pubkey(), signed, fees);
        self.send(&ixs, &[&relayer]).await
    }

    /// A new system account holding `lamports`.
    pub async fn user(&mut self, lamports: u64) -> Keypair {
        let user = Keypair::new();
        let payer = self.ctx.payer.pubkey();
        let ix = solana_system_interface::instruction::transfer(&payer, &user.pubkey(), lamports);
        self.send(&[ix], &[]).await.assert_ok();
        user
    }

    /// A user with `vault_lamports` deposited in their vault and one advanceable nonce.
    pub async fn payer_with_vault(&mut self, vault_lamports: u64) -> (Keypair, Pubkey) {
        let user = self.user(vault_lamports + 10 * SOL).await;
        self.deposit(&user, vault_lamports).await;
        let nonce = self.create_nonce(&user.pubkey()).await;
        (user, nonce)
    }

    /// Deposits into `owner`'s vault.
    pub async fn deposit(&mut self, owner: &Keypair, amount: u64) {
        self.send(&[vault_deposit_ix(&owner.pubkey(), amount)], &[owner])
            .await
            .assert_ok();
    }

    /// A durable nonce account whose authority is `sender`'s nonce-authority PDA.
    pub async fn create_nonce(&mut self, sender: &Pubkey) -> Pubkey {
        self.create_nonce_with_authority(&NonceAuthority::find_address(sender).0)
            .await
    }

    /// A durable nonce account with any authority.
    pub async fn create_nonce_with_authority(&mut self, authority: &Pubkey) -> Pubkey {
        self.create_nonce_at(Keypair::new(), authority).await
    }

    /// A durable nonce account at `nonce`'s address (fixed keys make PDA costs repeatable).
    pub async fn create_nonce_at(&mut self, nonce: Keypair, authority: &Pubkey) -> Pubkey {
        let rent = self.ctx.banks_client.get_rent().await.expect("rent");
        let lamports = rent.minimum_balance(toss_intent_processor::nonce::NONCE_ACCOUNT_LEN);
        let payer = self.ctx.payer.pubkey();
        let ixs = solana_system_interface::instruction::create_nonce_account(
            &payer,
            &nonce.pubkey(),
            authority,
            lamports,
        );
        self.send(&ixs, &[&nonce]).await.assert_ok();
        nonce.pubkey()
    }

    /// Moves to a later slot, so nonces set in this slot become advanceable.
    pub async fn next_slot(&mut self) {
        let slot = self.clock().await.slot;
        self.ctx.warp_to_slot(slot + 2).expect("warp");
    }

    /// The Clock sysvar.
    pub async fn clock(&mut self) -> Clock {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .expect("clock")
    }

    /// The Clock's unix timestamp.
    pub async fn now(&mut self) -> i64 {
        self.clock().await.unix_timestamp
    }

    /// Sets the Clock's unix timestamp.
    pub async fn set_now(&mut self, unix_timestamp: i64) {
        let mut clock = self.clock().await;
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
    }

    /// An account, if it exists.
    pub async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.ctx
            .banks_client
            .get_account(*key)
            .await
            .expect("get_account")
    }

    /// Lamports of `key` (0 if it does not exist).
    pub async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.account(key).await.map(|a| a.lamports).unwrap_or(0)
    }

    /// The stored durable nonce of a nonce account.
    pub async fn nonce_value(&mut self, nonce: &Pubkey) -> [u8; 32] {
        let account = self.account(nonce).await.expect("nonce account exists");
        read_nonce(&account.data)
            .expect("initialized nonce")
            .durable_nonce
    }

    /// The newest blockhash in the RecentBlockhashes sysvar.
    pub async fn recent_blockhashes_head(&mut self) -> [u8; 32] {
        let account = self
            .account(&RECENT_BLOCKHASHES_ID)
            .await
            .expect("recent blockhashes sysvar");
        account.data[8..40].try_into().expect("32 bytes")
    }

    /// A SOL intent from `sender` over `nonce` at its current value, valid for ten minutes.
    pub async fn sol_intent(
        &mut self,
        sender: &Pubkey,
        recipient: &Pubkey,
        amount: u64,
        nonce: &Pubkey,
    ) -> Intent {
        let nonce_value = self.nonce_value(nonce).await;
        let now = self.now().await;
        Intent {
            sender: *sender,
            recipient: *recipient,
            mint: None,
            amount,
            nonce_account: *nonce,
            nonce_value,
            expiry: now + 600,
            max_fee: 10_000,
            reference: None,
        }
    }

    /// Lamports of each key and the durable nonce of each nonce: what "nothing moved" compares.
    pub async fn snapshot(&mut self, keys: &[Pubkey], nonces: &[Pubkey]) -> Snapshot {
        let mut lamports = Vec::new();
        for key in keys {
            lamports.push((*key, self.lamports(key).await));
        }
        let mut values = Vec::new();
        for nonce in nonces {
            values.push((*nonce, self.nonce_value(nonce).await));
        }
        Snapshot {
            lamports,
            nonces: values,
        }
    }
}

/// See [`Env::snapshot`].
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// (account, lamports)
    pub lamports: Vec<(Pubkey, u64)>,
    /// (nonce account, durable nonce)
    pub nonces: Vec<(Pubkey, [u8; 32])>,
}

/// A system-owned account with `lamports`.
pub fn system_account(lamports: u64) -> Account {
    Account {
        lamports,
        data: vec![],
        owner: solana_sdk_ids::system_program::ID,
        executable: false,
        rent_epoch: 0,
    }
}

/// Runs an async test body in both modes: `dual_mode!(name, |mode| async move { ... })`
/// expands to `mod name { #[tokio::test] async fn native() ..; #[tokio::test] async fn bpf() .. }`.
#[macro_export]
macro_rules! dual_mode {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn native() {
                ($body)($crate::Mode::Native).await
            }
            #[tokio::test]
            async fn bpf() {
                ($body)($crate::Mode::Bpf).await
            }
        }
    };
}

/// A payer with a funded vault and an advanceable nonce, a merchant, and a signed SOL intent
/// paying the merchant.
pub struct Payment {
    /// The payer (intent sender).
    pub payer: Keypair,
    /// The payer's vault.
    pub vault: Pubkey,
    /// The payer's nonce account (authority: the payer's nonce-authority PDA).
    pub nonce: Pubkey,
    /// The merchant (recipient), a funded system account.
    pub merchant: Pubkey,
    /// The intent.
    pub intent: Intent,
    /// Its bytes and signature.
    pub signed: SignedIntent,
}

impl Payment {
    /// Every account whose lamports a settlement of this payment may change, and the relayer.
    pub fn watched(&self, relayer: &Pubkey) -> Vec<Pubkey> {
        vec![self.vault, self.merchant, *relayer]
    }
}

impl Env {
    /// A ready-to-settle payment of `amount` lamports from a vault holding `vault_lamports`.
    pub async fn payment(&mut self, vault_lamports: u64, amount: u64) -> Payment {
        let (payer, nonce) = self.payer_with_vault(vault_lamports).await;
        let merchant = self.user(SOL).await.pubkey();
        self.next_slot().await;
        let intent = self
            .sol_intent(&payer.pubkey(), &merchant, amount, &nonce)
            .await;
        let signed = sign_intent(&payer, &intent);
        let vault = toss_intent_processor::state::Vault::find_address(&payer.pubkey()).0;
        Payment {
            payer,
            vault,
            nonce,
            merchant,
            intent,
            signed,
        }
    }

    /// Re-signs `payment` after `edit` changed its intent.
    pub fn resign(&self, payment: &mut Payment, edit: impl FnOnce(&mut Intent)) {
        edit(&mut payment.intent);
        payment.signed = sign_intent(&payment.payer, &payment.intent);
    }

    /// Snapshot of everything a payment's settlement could move, relayer included.
    pub async fn snapshot_payment(&mut self, payment: &Payment) -> Snapshot {
        let relayer = self.relayer.pubkey();
        self.snapshot(&payment.watched(&relayer), &[payment.nonce])
            .await
    }
}

impl Env {
    /// Settles with the relayer as the only signer and fee payer, as in production; returns the
    /// outcome and the serialized transaction size.
    pub async fn settle_as_relayer(
        &mut self,
        signed: &[SignedIntent],
        fees: &[u64],
    ) -> (TxResult, usize) {
        let relayer = self.relayer.insecure_clone();
        let blockhash = self.fresh_blockhash().await;
        let tx = Transaction::new_signed_with_payer(
            &settle_ixs(&relayer.pubkey(), signed, fees),
            Some(&relayer.pubkey()),
            &[&relayer],
            blockhash,
        );
        let len = bincode::serialize(&tx).expect("serialize").len();
        (self.send_tx(tx).await, len)
    }
}
