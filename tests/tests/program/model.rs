//! A random sequence of deposits, settlements (fresh intents, replays, double spends, over-
//! spends), withdrawals and slot changes, checked after every step against a reference model:
//! every outcome is the one the model predicts, balances match the model, the rent floor is
//! never spent, a nonce moves exactly when an intent on it settles, and no intent id ever
//! settles twice. Deterministic seeds; bounded steps.

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::{HashMap, HashSet};
use toss_intent_processor::{events::RejectReason, intent::intent_id, state::Vault};
use toss_tests::*;

/// xorshift64*: a tiny deterministic generator (no dependency, reproducible by seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Payer {
    key: Keypair,
    vault: Pubkey,
    nonces: Vec<Pubkey>,
}

async fn run(mode: Mode, seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let mut env = Env::start(mode).await;
    let rent = env.ctx.banks_client.get_rent().await.unwrap();
    let merchants = [env.user(SOL).await.pubkey(), env.user(SOL).await.pubkey()];
    let mut payers = Vec::new();
    for _ in 0..3 {
        let key = env.user(50 * SOL).await;
        env.deposit(&key, 1 + rng.below(3 * SOL)).await;
        let mut nonces = Vec::new();
        for _ in 0..2 {
            nonces.push(env.create_nonce(&key.pubkey()).await);
        }
        let vault = Vault::find_address(&key.pubkey()).0;
        payers.push(Payer { key, vault, nonces });
    }
    env.next_slot().await;
    let vault_len = env.account(&payers[0].vault).await.unwrap().data.len();
    let floor = rent.minimum_balance(vault_len);

    // The model: vault balances, nonce values, every signed intent, settled ids.
    let mut vaults: HashMap<Pubkey, u64> = HashMap::new();
    for p in &payers {
        vaults.insert(p.vault, env.lamports(&p.vault).await);
    }
    let mut merchant_balance: HashMap<Pubkey, u64> = HashMap::new();
    for m in merchants {
        merchant_balance.insert(m, env.lamports(&m).await);
    }
    let relayer = env.relayer.pubkey();
    let mut relayer_balance = env.lamports(&relayer).await;
    let mut signed_so_far: Vec<(SignedIntent, usize)> = Vec::new();
    let mut settled_ids = HashSet::new();

    for _ in 0..steps {
        match rng.below(10) {
            0 => {
                let i = rng.below(3) as usize;
                let amount = 1 + rng.below(SOL);
                env.deposit(&payers[i].key, amount).await;
                *vaults.get_mut(&payers[i].vault).unwrap() += amount;
            }
            1 => env.next_slot().await,
            _ => {
                // A batch of one or two intents: fresh ones, or a replay of an earlier one.
                let n = 1 + rng.below(2) as usize;
                let mut batch: Vec<(SignedIntent, usize)> = Vec::new();
                for _ in 0..n {
                    if !signed_so_far.is_empty() && rng.below(4) == 0 {
                        let k = rng.below(signed_so_far.len() as u64) as usize;
                        batch.push(signed_so_far[k].clone());
                        continue;
                    }
                    let i = rng.below(3) as usize;
                    let nonce = payers[i].nonces[rng.below(2) as usize];
                    let merchant = merchants[rng.below(2) as usize];
                    // Sometimes more than the vault holds.
                    let amount = 1 + rng.below(vaults[&payers[i].vault] / 2 + SOL);
                    let intent = env
                        .sol_intent(&payers[i].key.pubkey(), &merchant, amount, &nonce)
                        .await;
                    let s = sign_intent(&payers[i].key, &intent);
                    signed_so_far.push((s.clone(), i));
                    batch.push((s, i));
                }
                let fees: Vec<u64> = batch.iter().map(|_| rng.below(10_001)).collect();
                // Model prediction, in order, from current chain values.
                let mut nonce_now: HashMap<Pubkey, [u8; 32]> = HashMap::new();
                for p in &payers {
                    for n in &p.nonces {
                        nonce_now.insert(*n, env.nonce_value(n).await);
                    }
                }
                // Every transaction here waits for a new blockhash, so no nonce still holds
                // the current slot's durable value: `NonceNotAdvanceable` never applies (it has
                // its own test in intent_settle.rs).
                let mut expected = Vec::new();
                let mut vaults_after = vaults.clone();
                let mut merchants_after = merchant_balance.clone();
                let mut advanced = HashSet::new();
                for ((s, i), fee) in batch.iter().zip(&fees) {
                    let intent = toss_intent_processor::intent::Intent::decode(&s.message).unwrap();
                    let id = intent_id(&s.message);
                    let vault = payers[*i].vault;
                    let outcome = if advanced.contains(&intent.nonce_account)
                        || nonce_now[&intent.nonce_account] != intent.nonce_value
                    {
                        Outcome::Rejected {
                            id,
                            reason: RejectReason::StaleNonce,
                        }
                    } else if intent.amount + fee > vaults_after[&vault] - floor {
                        Outcome::Rejected {
                            id,
                            reason: RejectReason::InsufficientFunds,
                        }
                    } else {
                        *vaults_after.get_mut(&vault).unwrap() -= intent.amount + fee;
                        *merchants_after.get_mut(&intent.recipient).unwrap() += intent.amount;
                        relayer_balance += fee;
                        advanced.insert(intent.nonce_account);
                        Outcome::Settled {
                            id,
                            amount: intent.amount,
                            fee: *fee,
                        }
                    };
                    expected.push(outcome);
                }
                let signed: Vec<SignedIntent> = batch.iter().map(|(s, _)| s.clone()).collect();
                let out = env.settle(&signed, &fees).await;
                out.assert_ok();
                assert_eq!(
                    out.outcomes(),
                    expected,
                    "seed {seed}: outcomes follow the model"
                );
                for o in &expected {
                    if let Outcome::Settled { id, .. } = o {
                        assert!(
                            settled_ids.insert(*id),
                            "seed {seed}: an intent settled twice"
                        );
                    }
                }
                vaults = vaults_after;
                merchant_balance = merchants_after;
                for (n, before) in &nonce_now {
                    let moved = env.nonce_value(n).await != *before;
                    assert_eq!(
                        moved,
                        advanced.contains(n),
                        "seed {seed}: nonce {n} moved iff used"
                    );
                }
            }
        }
        for p in &payers {
            let actual = env.lamports(&p.vault).await;
            assert_eq!(actual, vaults[&p.vault], "seed {seed}: vault balance");
            assert!(actual >= floor, "seed {seed}: rent floor spent");
        }
        assert_eq!(
            env.lamports(&relayer).await,
            relayer_balance,
            "seed {seed}: relayer fees"
        );
        for (m, b) in &merchant_balance {
            assert_eq!(env.lamports(m).await, *b, "seed {seed}: merchant balance");
        }
    }
    assert!(
        !settled_ids.is_empty(),
        "seed {seed}: the run settled something"
    );
}

dual_mode!(random_sequences_follow_the_model, |mode| async move {
    let steps = if mode == Mode::Native { 40 } else { 20 };
    for seed in [0x9E37_79B9_7F4A_7C15, 42, 7_777] {
        run(mode, seed, steps).await;
    }
});
