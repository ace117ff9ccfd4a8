//! SPL Token / Token-2022 fixtures: mints (with extensions), token accounts, allowances, and
//! token intents with their settle accounts.

use crate::client::*;
use crate::env::*;

use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use spl_token_2022_interface::{
    extension::{ExtensionType, StateWithExtensions},
    instruction as token_ix,
    state::{Account as TokenAccount, Mint},
};
use toss_intent_processor::{intent::Intent, state::Delegate};

/// SPL Token.
pub const TOKEN: Pubkey = spl_token_2022_interface::inline_spl_token::ID;
/// Token-2022.
pub const TOKEN_2022: Pubkey = spl_token_2022_interface::ID;

/// Mint extensions the fixtures can create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintExtension {
    /// Accepted by the program.
    MintCloseAuthority,
    /// Refused: a permanent delegate could drain the payer after a merchant accepted.
    PermanentDelegate,
    /// Refused: tokens cannot move.
    NonTransferable,
    /// Refused: the recipient would get less than signed.
    TransferFeeConfig,
    /// Refused: an arbitrary program runs on every transfer.
    TransferHook,
}

impl MintExtension {
    fn extension_type(self) -> ExtensionType {
        match self {
            Self::MintCloseAuthority => ExtensionType::MintCloseAuthority,
            Self::PermanentDelegate => ExtensionType::PermanentDelegate,
            Self::NonTransferable => ExtensionType::NonTransferable,
            Self::TransferFeeConfig => ExtensionType::TransferFeeConfig,
            Self::TransferHook => ExtensionType::TransferHook,
        }
    }

    fn init_ix(self, mint: &Pubkey, authority: &Pubkey) -> Instruction {
        let p = &TOKEN_2022;
        match self {
            Self::MintCloseAuthority => {
                token_ix::initialize_mint_close_authority(p, mint, Some(authority))
            }
            Self::PermanentDelegate => token_ix::initialize_permanent_delegate(p, mint, authority),
            Self::NonTransferable => token_ix::initialize_non_transferable_mint(p, mint),
            Self::TransferFeeConfig => {
                spl_token_2022_interface::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                    p, mint, Some(authority), Some(authority), 100, 1_000_000,
                )
            }
            Self::TransferHook => {
                spl_token_2022_interface::extension::transfer_hook::instruction::initialize(
                    p,
                    mint,
                    Some(*authority),
                    Some(Pubkey::new_unique()),
                )
            }
        }
        .expect("extension instruction")
    }
}

/// A token payment: a payer with an opened vault, a nonce, a funded source account with an
/// allowance to the delegate PDA, a merchant token account and a relayer fee account.
pub struct TokenPayment {
    /// The payer.
    pub payer: Keypair,
    /// Token program (Token or Token-2022).
    pub program: Pubkey,
    /// The mint (decimals 6).
    pub mint: Pubkey,
    /// The payer's token account.
    pub source: Pubkey,
    /// The merchant's wallet.
    pub merchant: Pubkey,
    /// The merchant's token account.
    pub destination: Pubkey,
    /// The relayer's token account.
    pub fee_destination: Pubkey,
    /// The payer's nonce.
    pub nonce: Pubkey,
    /// The intent.
    pub intent: Intent,
    /// Its bytes and signature.
    pub signed: SignedIntent,
}

impl TokenPayment {
    /// The settle accounts of this payment.
    pub fn metas(&self) -> Vec<AccountMeta> {
        token_intent_metas(
            &self.intent,
            &self.program,
            &self.source,
            &self.destination,
            &self.fee_destination,
        )
    }
}

impl Env {
    /// A mint of `program` with `extensions` (Token-2022 only), the context payer as authority.
    pub async fn create_mint(&mut self, program: &Pubkey, extensions: &[MintExtension]) -> Pubkey {
        let mint = Keypair::new();
        let payer = self.ctx.payer.pubkey();
        let types: Vec<ExtensionType> = extensions.iter().map(|e| e.extension_type()).collect();
        let len = ExtensionType::try_calculate_account_len::<Mint>(&types).expect("mint len");
        let rent = self.ctx.banks_client.get_rent().await.expect("rent");
        let mut ixs = vec![solana_system_interface::instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent.minimum_balance(len),
            len as u64,
            program,
        )];
        ixs.extend(extensions.iter().map(|e| e.init_ix(&mint.pubkey(), &payer)));
        ixs.push(
            token_ix::initialize_mint2(program, &mint.pubkey(), &payer, Some(&payer), 6)
                .expect("initialize_mint2"),
        );
        self.send(&ixs, &[&mint]).await.assert_ok();
        mint.pubkey()
    }

    /// A token account of `mint` owned by `owner`, holding `amount` minted to it.
    pub async fn token_account(
        &mut self,
        program: &Pubkey,
        mint: &Pubkey,
        owner: &Pubkey,
        amount: u64,
    ) -> Pubkey {
        let account = Keypair::new();
        let payer = self.ctx.payer.pubkey();
        let mint_account = self.account(mint).await.expect("mint");
        let mint_types = StateWithExtensions::<Mint>::unpack(&mint_account.data)
            .and_then(|s| {
                use spl_token_2022_interface::extension::BaseStateWithExtensions;
                s.get_extension_types()
            })
            .unwrap_or_default();
        let account_types = ExtensionType::get_required_init_account_extensions(&mint_types);
        let len = ExtensionType::try_calculate_account_len::<TokenAccount>(&account_types)
            .expect("account len");
        let rent = self.ctx.banks_client.get_rent().await.expect("rent");
        let mut ixs = vec![
            solana_system_interface::instruction::create_account(
                &payer,
                &account.pubkey(),
                rent.minimum_balance(len),
                len as u64,
                program,
            ),
            token_ix::initialize_account3(program, &account.pubkey(), mint, owner)
                .expect("initialize_account3"),
        ];
        if amount > 0 {
            ixs.push(
                token_ix::mint_to(program, mint, &account.pubkey(), &payer, &[], amount)
                    .expect("mint_to"),
            );
        }
        self.send(&ixs, &[&account]).await.assert_ok();
        account.pubkey()
    }

    /// `owner` approves the delegate PDA for `amount` on `source` (or revokes with `None`).
    pub async fn approve(
        &mut self,
        program: &Pubkey,
        source: &Pubkey,
        owner: &Keypair,
        amount: Option<u64>,
    ) {
        let ix = match amount {
            Some(amount) => token_ix::approve(
                program,
                source,
                &Delegate::find_address(&owner.pubkey()).0,
                &owner.pubkey(),
                &[],
                amount,
            ),
            None => token_ix::revoke(program, source, &owner.pubkey(), &[]),
        }
        .expect("approve/revoke");
        self.send(&[ix], &[owner]).await.assert_ok();
    }

    /// Token balance and remaining delegated amount of a token account.
    pub async fn token_state(&mut self, account: &Pubkey) -> (u64, u64) {
        let data = self.account(account).await.expect("token account").data;
        let state = StateWithExtensions::<TokenAccount>::unpack(&data).expect("token account");
        (state.base.amount, state.base.delegated_amount)
    }

    /// A ready token payment of `amount` base units from a source holding `balance` with an
    /// allowance of `allowance`.
    pub async fn token_payment(
        &mut self,
        program: &Pubkey,
        extensions: &[MintExtension],
        balance: u64,
        allowance: u64,
        amount: u64,
    ) -> TokenPayment {
        let mint = self.create_mint(program, extensions).await;
        self.token_payment_of(program, &mint, balance, allowance, amount)
            .await
    }

    /// Like [`Env::token_payment`] for an existing mint.
    pub async fn token_payment_of(
        &mut self,
        program: &Pubkey,
        mint: &Pubkey,
        balance: u64,
        allowance: u64,
        amount: u64,
    ) -> TokenPayment {
        let payer = self.user(10 * SOL).await;
        self.send(&[vault_open_ix(&payer.pubkey())], &[&payer])
            .await
            .assert_ok();
        let nonce = self.create_nonce(&payer.pubkey()).await;
        let source = self
            .token_account(program, mint, &payer.pubkey(), balance)
            .await;
        self.approve(program, &source, &payer, Some(allowance))
            .await;
        let merchant = Keypair::new().pubkey();
        let destination = self.token_account(program, mint, &merchant, 0).await;
        let relayer = self.relayer.pubkey();
        let fee_destination = self.token_account(program, mint, &relayer, 0).await;
        self.next_slot().await;
        let mut intent = self
            .sol_intent(&payer.pubkey(), &merchant, amount, &nonce)
            .await;
        intent.mint = Some(*mint);
        let signed = sign_intent(&payer, &intent);
        TokenPayment {
            payer,
            program: *program,
            mint: *mint,
            source,
            merchant,
            destination,
            fee_destination,
            nonce,
            intent,
            signed,
        }
    }

    /// Token balances (source, destination, fee account), the source's allowance and the nonce.
    pub async fn token_snapshot(&mut self, p: &TokenPayment) -> (u64, u64, u64, u64, [u8; 32]) {
        let (source, allowance) = self.token_state(&p.source).await;
        let (destination, _) = self.token_state(&p.destination).await;
        let (fee, _) = self.token_state(&p.fee_destination).await;
        let nonce = self.nonce_value(&p.nonce).await;
        (source, destination, fee, allowance, nonce)
    }

    /// Settles `signed` with explicit per-intent metas, the relayer signing.
    pub async fn settle_with(
        &mut self,
        signed: &[SignedIntent],
        fees: &[u64],
        metas: Vec<AccountMeta>,
    ) -> TxResult {
        let relayer = self.relayer.insecure_clone();
        let ixs = vec![
            precompile_ix(signed),
            settle_ix_with(&relayer.pubkey(), fees, metas),
        ];
        self.send(&ixs, &[&relayer]).await
    }
}
