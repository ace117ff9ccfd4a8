//! Solana keypair files: a JSON array of the 64 bytes `secret || public`, as `solana-keygen`
//! writes them; `~/.config/solana/id.json` by default, as the Solana CLI does.

use crate::SdkError;
use solana_keypair::Keypair;
use std::path::{Path, PathBuf};

/// `~/.config/solana/id.json` (or `$HOME`-relative equivalent).
pub fn default_keypair_path() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".config/solana/id.json")
}

fn file_error(path: &Path, reason: impl Into<String>) -> SdkError {
    SdkError::KeypairFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Reads a keypair file; checks that the public half matches the secret.
pub fn read_keypair_file(path: &Path) -> Result<Keypair, SdkError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e.to_string()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .map_err(|_| file_error(path, "not a JSON array of 64 bytes"))?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|_| file_error(path, "not a JSON array of 64 bytes"))?;
    Keypair::try_from(&bytes[..]).map_err(|_| file_error(path, "public key does not match secret"))
}

/// Writes `keypair` as a keypair file (mode 0600 on Unix), creating parent directories.
/// Refuses to overwrite an existing file.
pub fn write_keypair_file(keypair: &Keypair, path: &Path) -> Result<(), SdkError> {
    if path.exists() {
        return Err(file_error(
            path,
            "already exists (refusing to overwrite a key)",
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| file_error(path, e.to_string()))?;
    }
    let json = serde_json::to_string(&keypair.to_bytes().to_vec())
        .map_err(|e| file_error(path, e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options
        .open(path)
        .map_err(|e| file_error(path, e.to_string()))?;
    file.write_all(json.as_bytes())
        .map_err(|e| file_error(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::Signer;

    #[test]
    fn keypair_files_round_trip_and_refuse_bad_input() {
        let dir = std::env::temp_dir().join(format!("toss-keys-{}", std::process::id()));
        let path = dir.join("id.json");
        let _ = std::fs::remove_dir_all(&dir);
        let kp = Keypair::new();
        write_keypair_file(&kp, &path).unwrap();
        assert_eq!(read_keypair_file(&path).unwrap().pubkey(), kp.pubkey());
        assert!(matches!(
            write_keypair_file(&kp, &path),
            Err(SdkError::KeypairFile { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "[1,2,3]").unwrap();
        assert!(read_keypair_file(&bad).is_err());
        let mut mismatched = kp.to_bytes();
        mismatched[40] ^= 1;
        std::fs::write(&bad, serde_json::to_string(&mismatched.to_vec()).unwrap()).unwrap();
        assert!(read_keypair_file(&bad).is_err());
        assert!(read_keypair_file(&dir.join("missing.json")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
