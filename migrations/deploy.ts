// `anchor migrate` runs this after `anchor deploy`: it initializes the program's config, signed
// by the provider wallet, which must be the program's upgrade authority (the program refuses
// anyone else, so initialization cannot be front-run). Idempotent: an existing config is left
// alone. Settings come from the environment, with these defaults:
//   TOSS_ADMIN                       admin key (default: the provider wallet; use a multisig)
//   TOSS_MAX_INTENT_LIFETIME_SECS    86400 (1 day)
//   TOSS_MAX_RELAYER_FEE             50000 lamports
//   TOSS_WITHDRAWAL_DELAY_SECS       172800 (2 days; never shorter than the lifetime)
//   TOSS_START_PAUSED                "true" to start with settlement paused
//   TOSS_WITHDRAWAL_WINDOW_SECS      86400 (1 day): how long an unlocked withdrawal or nonce
//                                    close stays executable before it lapses
import * as anchor from "@anchor-lang/core";
import { PublicKey, SystemProgram } from "@solana/web3.js";
import idl from "../idl/toss_intent_processor.json";

const UPGRADEABLE_LOADER = new PublicKey("BPFLoaderUpgradeab1e11111111111111111111111");

function envInt(name: string, fallback: number): anchor.BN {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return new anchor.BN(fallback);
  if (!/^[0-9]+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return new anchor.BN(raw);
}

module.exports = async function (provider: anchor.AnchorProvider): Promise<void> {
  anchor.setProvider(provider);
  const program = new anchor.Program(idl as anchor.Idl, provider);
  const [config] = PublicKey.findProgramAddressSync([Buffer.from("config")], program.programId);
  const [programData] = PublicKey.findProgramAddressSync(
    [program.programId.toBuffer()],
    UPGRADEABLE_LOADER,
  );
  if (await provider.connection.getAccountInfo(config)) {
    console.log(`config ${config.toBase58()} already initialized`);
    return;
  }
  const admin = process.env.TOSS_ADMIN
    ? new PublicKey(process.env.TOSS_ADMIN)
    : provider.wallet.publicKey;
  const args = {
    admin,
    maxIntentLifetimeSecs: envInt("TOSS_MAX_INTENT_LIFETIME_SECS", 86_400),
    maxRelayerFee: envInt("TOSS_MAX_RELAYER_FEE", 50_000),
    withdrawalDelaySecs: envInt("TOSS_WITHDRAWAL_DELAY_SECS", 172_800),
    paused: process.env.TOSS_START_PAUSED === "true",
    withdrawalWindowSecs: envInt("TOSS_WITHDRAWAL_WINDOW_SECS", 86_400),
  };
  const signature = await program.methods
    .configInitialize(args)
    .accountsPartial({
      authority: provider.wallet.publicKey,
      config,
      programData,
      systemProgram: SystemProgram.programId,
    })
    .rpc();
  console.log(`initialized config ${config.toBase58()} (admin ${admin.toBase58()}): ${signature}`);
};
